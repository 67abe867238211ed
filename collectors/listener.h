#ifndef FP_LISTENER_H
#define FP_LISTENER_H
#endif
