#ifndef FP_GEN_TRAFFIC_H
#define FP_GEN_TRAFFIC_H
#endif
