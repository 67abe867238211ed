#ifndef FP_MIB_SYSTEM_H
#define FP_MIB_SYSTEM_H
#endif
