/*
 * The normalized flow record: what every decoder (NetFlow v5, v9, IPFIX) and
 * the packet meter produce, and what the aggregations consume. Plain data.
 */
#ifndef FP_FLOW_H
#define FP_FLOW_H

#include <stdint.h>

#include "engine/addr.h"

struct flow_record {
	struct addr	 src;
	struct addr	 dst;
	struct addr	 next_hop;	/* family ADDR_NONE when not exported */
	struct addr	 exporter;	/* the datagram's source address */
	uint32_t	 domain;	/* v9 source id, IPFIX observation domain, v5 engine type<<8|id */
	uint16_t	 src_port;
	uint16_t	 dst_port;
	uint8_t		 proto;
	uint8_t		 tos;
	uint8_t		 tcp_flags;
	uint8_t		 src_mask;
	uint8_t		 dst_mask;
	uint32_t	 src_as;
	uint32_t	 dst_as;
	uint32_t	 in_if;
	uint32_t	 out_if;
	uint64_t	 packets;	/* as exported, before sampling correction */
	uint64_t	 octets;	/* as exported, before sampling correction */
	int64_t		 start_ms;	/* milliseconds since the epoch; 0 when unknown */
	int64_t		 end_ms;
	uint32_t	 sampling;	/* 1 in N packets sampled as the decoder saw it; 0/1 = unsampled */
};

#endif
