/*
 * FLOWPATH-MIB::fpAlarm: fpRuleTable, fpAlarmTable and the notification
 * counters, read from the rules at request time (rows are rebuilt only
 * when rules or active alarms come or go), and the notifications
 * fpAlarmRaised, fpAlarmCleared and fpAlarmSummary built from the rules'
 * events and handed to the paced queue.
 */
#ifndef FP_MIB_ALARM_H
#define FP_MIB_ALARM_H

#include "subagent/notify.h"
#include "subagent/rules.h"

/* Registers the tables and becomes the rules' sink and hook. */
void	mib_alarm_init(struct rules *, struct notify *);
void	mib_alarm_shutdown(void);

#endif
