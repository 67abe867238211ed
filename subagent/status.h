#ifndef FP_STATUS_H
#define FP_STATUS_H
#endif
