/*
 * mclient.h - the MTA side of the Sendmail milter protocol (version 6, as
 * Postfix 3.7 speaks it), shared by tests/miltc and bench/loadgen: packets,
 * option negotiation, macros, the no-reply and no-step flags, the replies.
 *
 * It owns one connection's socket and buffers, and nothing of a message: the
 * programs keep their own envelope, macro values, message parsing and output.
 * No libmilter, no global state; one connection belongs to one thread.
 */
#ifndef AM_MCLIENT_H
#define AM_MCLIENT_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/* Protocol constants (libmilter's mfdef.h; not included on purpose). */
#define MCLIENT_VERSION		6

#define SMFIC_ABORT		'A'
#define SMFIC_BODY		'B'
#define SMFIC_CONNECT		'C'
#define SMFIC_MACRO		'D'
#define SMFIC_BODYEOB		'E'
#define SMFIC_HELO		'H'
#define SMFIC_HEADER		'L'
#define SMFIC_MAIL		'M'
#define SMFIC_EOH		'N'
#define SMFIC_OPTNEG		'O'
#define SMFIC_QUIT		'Q'
#define SMFIC_RCPT		'R'
#define SMFIC_DATA		'T'

#define SMFIR_ADDRCPT		'+'
#define SMFIR_DELRCPT		'-'
#define SMFIR_ADDRCPT_PAR	'2'
#define SMFIR_SHUTDOWN		'4'
#define SMFIR_ACCEPT		'a'
#define SMFIR_REPLBODY		'b'
#define SMFIR_CONTINUE		'c'
#define SMFIR_DISCARD		'd'
#define SMFIR_CHGFROM		'e'
#define SMFIR_CONN_FAIL		'f'
#define SMFIR_ADDHEADER		'h'
#define SMFIR_INSHEADER		'i'
#define SMFIR_CHGHEADER		'm'
#define SMFIR_PROGRESS		'p'
#define SMFIR_QUARANTINE	'q'
#define SMFIR_REJECT		'r'
#define SMFIR_SKIP		's'
#define SMFIR_TEMPFAIL		't'
#define SMFIR_REPLYCODE		'y'

#define SMFIP_NOCONNECT		0x00000001u
#define SMFIP_NOHELO		0x00000002u
#define SMFIP_NOMAIL		0x00000004u
#define SMFIP_NORCPT		0x00000008u
#define SMFIP_NOBODY		0x00000010u
#define SMFIP_NOHDRS		0x00000020u
#define SMFIP_NOEOH		0x00000040u
#define SMFIP_NR_HDR		0x00000080u
#define SMFIP_NOUNKNOWN		0x00000100u
#define SMFIP_NODATA		0x00000200u
#define SMFIP_SKIP		0x00000400u
#define SMFIP_RCPT_REJ		0x00000800u
#define SMFIP_NR_CONN		0x00001000u
#define SMFIP_NR_HELO		0x00002000u
#define SMFIP_NR_MAIL		0x00004000u
#define SMFIP_NR_RCPT		0x00008000u
#define SMFIP_NR_DATA		0x00010000u
#define SMFIP_NR_UNKN		0x00020000u
#define SMFIP_NR_EOH		0x00040000u
#define SMFIP_NR_BODY		0x00080000u
#define SMFIP_HDR_LEADSPC	0x00100000u

#define MCLIENT_ALL_ACTIONS	0x000001FFu	/* SMFIF_ADDHDRS .. SETSYMLIST */
#define MCLIENT_ALL_PROTOCOL	0x001FFFFFu	/* what Postfix 3.x offers (v6) */

/* What Postfix does with the content, and the bounds of what we accept. */
#define MCLIENT_CHUNK		65535		/* body chunk size, as Postfix */
#define MCLIENT_HEADER_LIMIT	102400		/* Postfix header_size_limit */
#define MCLIENT_MAX_PACKET	(64u << 20)	/* refuse replies larger than this */
#define MCLIENT_ERR_LEN		512		/* one error text */
#define MCLIENT_MAX_ADDRS	8		/* addresses tried for one inet spec */

/* Macro stages of the SETSYMLIST data in the OPTNEG reply (SMFIM_*). */
enum { ST_CONNECT, ST_HELO, ST_MAIL, ST_RCPT, ST_DATA, ST_EOM, ST_EOH, ST_MAX };

/* What a step returned; -1 is an error. */
enum mclient_verdict {
	V_CONTINUE,	/* go on (also: no reply expected, or step not sent) */
	V_ACCEPT,
	V_REJECT,
	V_TEMPFAIL,
	V_DISCARD,
	V_REPLYCODE,	/* the reply text is mclient_text() */
	V_SKIP,
	V_SHUTDOWN,
};

/* A growable byte buffer; {0} is an empty one. */
struct mclient_buf {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
};

/* A milter's address, resolved once, connected to many times. */
struct mclient_addr {
	char		 name[MCLIENT_ERR_LEN / 2];	/* for errors */
	int		 family;	/* AF_UNIX, AF_INET or AF_INET6 */
	int		 count;		/* addresses, tried in order */
	struct sockaddr_storage sa[MCLIENT_MAX_ADDRS];
	socklen_t	 salen[MCLIENT_MAX_ADDRS];
};

/* Flags of mclient_init(). */
#define MCLIENT_POLL	0x1	/* deadline per reply, with poll() */
#define MCLIENT_WARN	0x2	/* warn on stderr of what Postfix tolerates */
#define MCLIENT_TRACE	0x4	/* dump every packet on stderr */

/* One connection to a milter. */
struct mclient_conn {
	const char	*name;		/* starts warnings and traces */
	int		 fd;
	int		 timeout_ms;	/* per reply; 0: wait forever */
	unsigned	 flags;
	uint32_t	 version;	/* the milter's OPTNEG reply */
	uint32_t	 actions;
	uint32_t	 proto;
	uint32_t	 np_mask;	/* steps its protocol version lacks */
	int		 skip_event;	/* SMFIR_SKIP'd event type, or 0 */
	int		 nr_sent;	/* no-reply packets since the last reply */
	struct mclient_buf out;		/* queued outgoing packets */
	struct mclient_buf in;		/* incoming bytes */
	size_t		 in_off;	/* consumed part of in */
	struct mclient_buf text;	/* last REPLYCODE/QUARANTINE text */
	struct mclient_buf syms;	/* SETSYMLIST lists, NUL-terminated */
	size_t		 symoff[ST_MAX];	/* offset in syms, or SIZE_MAX */
	char		 err[MCLIENT_ERR_LEN];
};

/* One packet read; data is valid until the next read. */
struct mclient_pkt {
	int		 cmd;
	const unsigned char *data;
	size_t		 len;
};

/* One macro; a NULL value is not sent. */
struct mclient_macro {
	const char	*name;
	const char	*value;
};

/* A request of the milter that is not a verdict, as the reply loop saw it. */
struct mclient_request {
	int		 cmd;		/* SMFIR_* */
	long		 idx;		/* INSHEADER/CHGHEADER index, else -1 */
	const char	*arg[2];	/* its strings; arg[1] may be NULL */
	unsigned long long bytes;	/* REPLBODY: bytes of one run of packets */
	unsigned long	 packets;	/* REPLBODY: packets of that run */
};

/* Where the reply loop hands the requests (NULL: nowhere). */
struct mclient_sink {
	void		(*request)(void *arg, const struct mclient_request *rq);
	void		*arg;
};

void *mclient_xrealloc(void *p, size_t n);
char *mclient_xstrdup(const char *s);
void mclient_buf_reserve(struct mclient_buf *b, size_t extra);
void mclient_buf_add(struct mclient_buf *b, const void *d, size_t n);
void mclient_buf_addc(struct mclient_buf *b, int c);
void mclient_buf_adds(struct mclient_buf *b, const char *s);
void mclient_buf_free(struct mclient_buf *b);
void mclient_put32(unsigned char *p, uint32_t v);
uint32_t mclient_get32(const unsigned char *p);

int mclient_resolve(struct mclient_addr *a, const char *spec, char *err,
    size_t errsize);
void mclient_init(struct mclient_conn *c, const char *name, int timeout_ms,
    unsigned flags);
int mclient_connect(struct mclient_conn *c, const struct mclient_addr *a);
void mclient_close(struct mclient_conn *c);
void mclient_free(struct mclient_conn *c);
int mclient_fail(struct mclient_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

int mclient_send(struct mclient_conn *c, int cmd, const void *data,
    size_t len);
int mclient_flush(struct mclient_conn *c);
int mclient_read(struct mclient_conn *c, struct mclient_pkt *pkt);
size_t mclient_pending(const struct mclient_conn *c);

int mclient_negotiate(struct mclient_conn *c, uint32_t actions,
    uint32_t proto);
const char *mclient_symlist(const struct mclient_conn *c, int stage);
const char *mclient_symlist_next(const char **p, size_t *len);
int mclient_symlist_has(const char *list, const char *name);
int mclient_put_macros(struct mclient_conn *c, int cmd,
    const struct mclient_macro *m, size_t n);
int mclient_event(struct mclient_conn *c, int cmd,
    const struct mclient_macro *m, size_t nm, const void *data, size_t len,
    const struct mclient_sink *sink);
int mclient_replies(struct mclient_conn *c, int cmd,
    const struct mclient_sink *sink);
const char *mclient_text(const struct mclient_conn *c);

void mclient_connect_data(struct mclient_buf *b, const char *host, int family,
    unsigned port, const char *addr);
void mclient_addr_arg(struct mclient_buf *b, const char *bare);
char *mclient_bare_addr(const char *a);
size_t mclient_header_label(const char *l, size_t n);
size_t mclient_header_split(const char *f, size_t n, int limit, size_t *lab,
    size_t *vlen);
void mclient_header_data(struct mclient_buf *b, const char *f, size_t lab,
    const char *val, size_t vlen);
size_t mclient_line_clean(char *l, size_t n);

#endif
