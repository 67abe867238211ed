#ifndef FP_LOOP_H
#define FP_LOOP_H
#endif
