/*
 * Durations. Integer arithmetic for the whole part so that "24h" is exact;
 * a fraction ("1.5s") is rounded to the nanosecond.
 */
#include <stdbool.h>
#include <string.h>

#include "engine/units.h"

#define UNITS_FRAC_DIGITS 9	/* nanoseconds: finer digits are ignored */

struct unit {
	const char	*suffix;
	int64_t		 ns;
};

static const struct unit units[] = {
	{ "ms", INT64_C(1000000) },
	{ "s",  UNITS_NS_PER_SEC },
	{ "m",  60 * UNITS_NS_PER_SEC },
	{ "h",  3600 * UNITS_NS_PER_SEC },
	{ "d",  86400 * UNITS_NS_PER_SEC },
	{ "",   UNITS_NS_PER_SEC },	/* a bare number is seconds */
};

/* Non-negative only; avoids libm, which the engine does not link. */
static int64_t
round_nonneg(double x)
{
	return (int64_t)(x + 0.5);
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Whole part; false on overflow of int64. */
static bool
parse_whole(const char **p, int64_t *out)
{
	int64_t v = 0;

	for (; is_digit(**p); (*p)++) {
		if (v > (INT64_MAX - (**p - '0')) / 10)
			return false;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return true;
}

/* Fraction after the dot as num/den, den a power of ten up to 1e9. */
static void
parse_frac(const char **p, int64_t *num, int64_t *den)
{
	int digits = 0;

	*num = 0;
	*den = 1;
	for (; is_digit(**p); (*p)++) {
		if (digits++ >= UNITS_FRAC_DIGITS)
			continue;
		*num = *num * 10 + (**p - '0');
		*den *= 10;
	}
}

static const struct unit *
find_unit(const char *suffix)
{
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(suffix, units[i].suffix) == 0)
			return &units[i];
	return NULL;
}

const char *
units_parse_duration(const char *text, int64_t *ns)
{
	const struct unit *u;
	const char *p = text;
	int64_t whole, num = 0, den = 1, frac;

	if (text == NULL || *text == '\0')
		return "empty duration";
	if (*text == '-')
		return "negative duration";
	if (!is_digit(*p))
		return "not a duration";
	if (!parse_whole(&p, &whole))
		return "duration too large";
	if (*p == '.') {
		p++;
		if (!is_digit(*p))
			return "not a duration";
		parse_frac(&p, &num, &den);
	}
	if ((u = find_unit(p)) == NULL)
		return "unknown unit (use ms, s, m, h or d)";
	if (whole > INT64_MAX / u->ns)
		return "duration too large";
	frac = round_nonneg((double)num / (double)den * (double)u->ns);
	if (whole * u->ns > INT64_MAX - frac)
		return "duration too large";
	*ns = whole * u->ns + frac;
	return NULL;
}

const char *
units_seconds_to_ns(double seconds, int64_t *ns)
{
	if (seconds != seconds)	/* NaN */
		return "not a number";
	if (seconds < 0)
		return "negative duration";
	/* 9.2e9 s is the int64 limit; stay clear of rounding at the edge. */
	if (seconds >= 9.2e9)
		return "duration too large";
	*ns = round_nonneg(seconds * 1e9);
	return NULL;
}
