#ifndef FP_DAEMON_H
#define FP_DAEMON_H
#endif
