#ifndef FP_GEN_ENCODE_H
#define FP_GEN_ENCODE_H
#endif
