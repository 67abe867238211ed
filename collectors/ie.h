#ifndef FP_IE_H
#define FP_IE_H
#endif
