#ifndef FP_AGENTX_H
#define FP_AGENTX_H
#endif
