/*
 * nullmilter -- a milter that does no work: what libmilter and the kernel
 * cost per message on this machine, for bench/run.
 *
 * usage: nullmilter [-H FIELDS] [-p] [-c SIGNS,VERIFIES] SOCKET
 *
 * It negotiates what authmilter negotiates (MILTER_PROTO_WANT of
 * filter/milter_proto.h: no reply to any step but the end of the message,
 * headers with their leading space, SMFIP_SKIP), answers every step at
 * once and, at the end of each message, inserts FIELDS header fields
 * (default 1; authmilter adds one signature or one
 * Authentication-Results, four with an ARC seal) and accepts. No callback looks at the message.
 *
 * By default it runs on libmilter with authmilter's I/O layer
 * (filter/milter_io.c: read-ahead on the MTA connections, the changes
 * sent with the reply) and with libmilter's threads kept for reuse
 * (filter/milter_threads.c), as authmilter does: its CPU per message is
 * the part of authmilter's overhead that no work of authmilter's can
 * remove on this machine. -p leaves both out (libmilter as Debian ships
 * it, as OpenDKIM and OpenDMARC run on it).
 *
 * -c SIGNS,VERIFIES makes it do, at the end of each message, that many
 * RSA-2048 signatures and verifications of a SHA-256 digest (a key it
 * makes at start, a context per thread reused, as authmilter's pkeyctx.c
 * does) and nothing else: with the counts of a load of bench/run, its
 * overhead (CPU per message minus those operations priced by
 * bench/cryptofloor) is what that load would cost a milter whose own
 * work were free, the cryptography run where it runs, between the
 * messages' I/O and on libmilter's threads, rather than in a loop.
 *
 * SOCKET as libmilter takes it: unix:PATH, local:PATH or inet:PORT@HOST.
 * Runs in the foreground until killed. Exit 2 on a usage error, 1 when
 * libmilter fails.
 */
#define _GNU_SOURCE		/* the milter_io.c program interface */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include "milter_io.h"
#include "milter_threads.h"
#include "milter_proto.h"

#define NULLMILTER_MAX_FIELDS	16	/* -H at most */
#define NULLMILTER_MAX_FD	1024	/* where libmilter's socket is sought */
#define NULLMILTER_MAX_OPS	64	/* -c: signatures or verifications at most */
#define NULLMILTER_RSA_BITS	2048
#define NULLMILTER_SIG_MAX	(NULLMILTER_RSA_BITS / 8)

static int nullmilter_signs, nullmilter_verifies;
static EVP_PKEY *nullmilter_key;
static _Thread_local EVP_PKEY_CTX *nullmilter_ctx[2];	/* verify, sign */

static int nullmilter_fields = 1;
static unsigned long nullmilter_proto;	/* as negotiated (all sessions alike) */

/* step - the answer to a step that needs none when flag was negotiated */
static sfsistat
step(unsigned long flag)
{
	return (nullmilter_proto & flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)ctx;
	(void)f2;
	(void)f3;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS);
	*pf1 = nullmilter_proto = f1 & MILTER_PROTO_WANT;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)ctx;
	(void)host;
	(void)addr;
	return step(SMFIP_NR_CONN);
}

static sfsistat
nm_helo(SMFICTX *ctx, char *name)
{
	(void)ctx;
	(void)name;
	return step(SMFIP_NR_HELO);
}

static sfsistat
nm_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return step(SMFIP_NR_MAIL);
}

static sfsistat
nm_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return step(SMFIP_NR_RCPT);
}

static sfsistat
nm_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return step(SMFIP_NR_HDR);
}

static sfsistat
nm_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return step(SMFIP_NR_EOH);
}

static sfsistat
nm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx;
	(void)chunk;
	(void)len;
	return step(SMFIP_NR_BODY);
}

/* nm_ctx - this thread's context for one direction, made at first use */
static EVP_PKEY_CTX *
nm_ctx(int sign)
{
	EVP_PKEY_CTX *c = nullmilter_ctx[sign];

	if (c != NULL)
		return c;
	if ((c = EVP_PKEY_CTX_new(nullmilter_key, NULL)) == NULL ||
	    (sign ? EVP_PKEY_sign_init(c) : EVP_PKEY_verify_init(c)) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) <= 0) {
		EVP_PKEY_CTX_free(c);
		return NULL;
	}
	return nullmilter_ctx[sign] = c;
}

/* nm_crypto - the -c operations over a digest; false on a failure */
static bool
nm_crypto(void)
{
	unsigned char md[32] = "nullmilter", sig[NULLMILTER_SIG_MAX];
	size_t siglen = sizeof(sig);
	EVP_PKEY_CTX *s, *v;

	if (nullmilter_signs + nullmilter_verifies == 0)
		return true;
	if ((s = nm_ctx(1)) == NULL || (v = nm_ctx(0)) == NULL)
		return false;
	for (int i = 0; i < nullmilter_signs; i++) {
		md[31] = (unsigned char)i;
		siglen = sizeof(sig);
		if (EVP_PKEY_sign(s, sig, &siglen, md, sizeof(md)) <= 0)
			return false;
	}
	for (int i = 0; i < nullmilter_verifies; i++)
		if (EVP_PKEY_verify(v, sig, siglen, md, sizeof(md)) <= 0)
			return false;
	return true;
}

static sfsistat
nm_eom(SMFICTX *ctx)
{
	if (!nm_crypto())
		return SMFIS_TEMPFAIL;
	for (int i = 0; i < nullmilter_fields; i++)
		if (smfi_insheader(ctx, 0, "X-Null", " nullmilter") != MI_SUCCESS)
			return SMFIS_TEMPFAIL;
	return SMFIS_ACCEPT;
}

static struct smfiDesc nullmilter_desc = {
	.xxfi_name = "nullmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	.xxfi_connect = nm_connect,
	.xxfi_helo = nm_helo,
	.xxfi_envfrom = nm_envfrom,
	.xxfi_envrcpt = nm_envrcpt,
	.xxfi_header = nm_header,
	.xxfi_eoh = nm_eoh,
	.xxfi_body = nm_body,
	.xxfi_eom = nm_eom,
	.xxfi_negotiate = nm_negotiate,
};

/* listening_socket - the descriptor libmilter listens on, or -1 */
static int
listening_socket(void)
{
	for (int fd = 0; fd < NULLMILTER_MAX_FD; fd++) {
		int on = 0;
		socklen_t len = sizeof(on);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 &&
		    on)
			return fd;
	}
	return -1;
}

/* nm_counts - -c SIGNS,VERIFIES; false when malformed */
static bool
nm_counts(const char *arg)
{
	char *end;
	long n, m;

	n = strtol(arg, &end, 10);
	if (end == arg || *end != ',')
		return false;
	arg = end + 1;
	m = strtol(arg, &end, 10);
	if (end == arg || *end != '\0' || n < 1 || n > NULLMILTER_MAX_OPS ||
	    m < 0 || m > NULLMILTER_MAX_OPS)
		return false;
	nullmilter_signs = (int)n;
	nullmilter_verifies = (int)m;
	return true;
}

static void
usage(void)
{
	fprintf(stderr, "usage: nullmilter [-H FIELDS] [-p] [-c SIGNS,VERIFIES] SOCKET\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	int c, fd;
	bool plain = false;
	char *end;

	while ((c = getopt(argc, argv, "H:pc:")) != -1) {
		switch (c) {
		case 'c':
			if (!nm_counts(optarg)) {
				fprintf(stderr, "nullmilter: -c wants SIGNS,VERIFIES, "
				    "each 0 to %d, at least one signature\n",
				    NULLMILTER_MAX_OPS);
				exit(2);
			}
			break;
		case 'H':
			nullmilter_fields = (int)strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' ||
			    nullmilter_fields < 0 ||
			    nullmilter_fields > NULLMILTER_MAX_FIELDS) {
				fprintf(stderr, "nullmilter: -H wants 0 to %d\n",
				    NULLMILTER_MAX_FIELDS);
				exit(2);
			}
			break;
		case 'p':
			plain = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	if (nullmilter_signs > 0 &&
	    (nullmilter_key = EVP_RSA_gen(NULLMILTER_RSA_BITS)) == NULL) {
		fprintf(stderr, "nullmilter: cannot make an RSA key\n");
		return 1;
	}
	if (smfi_register(nullmilter_desc) == MI_FAILURE ||
	    smfi_setconn(argv[optind]) == MI_FAILURE ||
	    smfi_opensocket(true) == MI_FAILURE) {
		fprintf(stderr, "nullmilter: cannot listen on %s\n", argv[optind]);
		return 1;
	}
	if (!plain) {
		if ((fd = listening_socket()) < 0) {
			fprintf(stderr, "nullmilter: libmilter's socket not found\n");
			return 1;
		}
		milter_io_listen(fd);
		milter_io_hold((const char[])MILTER_HOLD_CMDS);
		milter_threads_keep((const void *)smfi_main,
		    MILTER_THREADS_IDLE_MAX, MILTER_THREADS_IDLE_MS);
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
