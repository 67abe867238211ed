#ifndef FP_COLLECTOR_H
#define FP_COLLECTOR_H
#endif
