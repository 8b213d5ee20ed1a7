/*
 * milter_proto.h - what authmilter asks of the milter protocol, for
 * milter.c and for bench/nullmilter.c, which must negotiate the same to
 * measure libmilter's part of authmilter's cost. Include
 * <libmilter/mfapi.h> first.
 */
#ifndef AM_MILTER_PROTO_H
#define AM_MILTER_PROTO_H

/*
 * MILTER_PROTO_WANT - the SMFIP_* options asked for: no reply to any step
 * but the end of the message, header values with their leading space,
 * SMFIS_SKIP allowed, no UNKNOWN and no DATA step
 */
#define MILTER_PROTO_WANT	(SMFIP_HDR_LEADSPC | SMFIP_SKIP | \
	SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | \
	SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NR_DATA | \
	SMFIP_NR_UNKN | SMFIP_NOUNKNOWN | SMFIP_NODATA)

/*
 * MILTER_HOLD_CMDS - the packets that change the message, held back and
 * sent with the reply of their step (milter_io_hold()); an initializer
 * of a NUL-terminated char array
 */
#define MILTER_HOLD_CMDS	{ SMFIR_INSHEADER, SMFIR_CHGHEADER, \
	SMFIR_ADDHEADER, SMFIR_QUARANTINE, '\0' }

#endif
