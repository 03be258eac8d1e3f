/* SPDX-License-Identifier: MIT */
/*
 * authorized_keys lines as sshd(8) reads them (auth2-pubkeyfile.c auth_check_authkeys_line():
 * sshkey_read() at the start of the line, else sshkey_advance_past_options() and sshkey_read()
 * again, then sshauthopt_parse() on the options), turned into owned struct authkey records with the
 * key's SHA-256 fingerprint as ssh-keygen -lf prints it. The key blob is walked in the SSH wire
 * format to check what sshkey_from_blob() checks (minus certificate signatures), and to rebuild the
 * plain public key a certificate fingerprint is taken over. Owns nothing beyond the records it
 * returns; never logs.
 */

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "authkeys.h"
#include "macro.h"
#include "strview.h"

/* sshd limits (auth-options.h SSH_AUTHOPT_ENV_MAX, SSH_AUTHOPT_PERMIT_MAX). */
#define OPT_ENV_MAX 1024
#define OPT_PERMIT_MAX 4096
/* sshbuf.h SSHBUF_MAX_BIGNUM (bytes); ssh.h SSH_RSA_MINIMUM_MODULUS_SIZE (bits). */
#define BIGNUM_MAX_BYTES (16384 / 8)
#define RSA_MIN_BITS 1024
/* NI_MAXHOST: sshd's handle_permit() refuses host names this long. */
#define PERMIT_HOST_MAX 1025

enum key_kind {
        KIND_RSA,
        KIND_DSA,
        KIND_ECDSA_P256,
        KIND_ECDSA_P384,
        KIND_ECDSA_P521,
        KIND_ED25519,
        KIND_SK_ECDSA,
        KIND_SK_ED25519,
        KIND_XMSS,
        _KIND_MAX,
};

/* One row per name sshkey_type_from_name() accepts (sshkey.c keyimpls[]). */
struct key_type_info {
        const char *name;
        const char *log_name; /* sshkey_type() */
        enum key_kind kind;
        bool cert;
};

static const struct key_type_info key_types[] = {
        { "ssh-ed25519", "ED25519", KIND_ED25519, false },
        { "ssh-ed25519-cert-v01@openssh.com", "ED25519-CERT", KIND_ED25519, true },
        { "sk-ssh-ed25519@openssh.com", "ED25519-SK", KIND_SK_ED25519, false },
        { "sk-ssh-ed25519-cert-v01@openssh.com", "ED25519-SK-CERT", KIND_SK_ED25519, true },
        { "ecdsa-sha2-nistp256", "ECDSA", KIND_ECDSA_P256, false },
        { "ecdsa-sha2-nistp384", "ECDSA", KIND_ECDSA_P384, false },
        { "ecdsa-sha2-nistp521", "ECDSA", KIND_ECDSA_P521, false },
        { "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ECDSA-CERT", KIND_ECDSA_P256, true },
        { "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ECDSA-CERT", KIND_ECDSA_P384, true },
        { "ecdsa-sha2-nistp521-cert-v01@openssh.com", "ECDSA-CERT", KIND_ECDSA_P521, true },
        { "sk-ecdsa-sha2-nistp256@openssh.com", "ECDSA-SK", KIND_SK_ECDSA, false },
        { "webauthn-sk-ecdsa-sha2-nistp256@openssh.com", "ECDSA-SK", KIND_SK_ECDSA, false },
        { "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", "ECDSA-SK-CERT", KIND_SK_ECDSA, true },
        { "ssh-rsa", "RSA", KIND_RSA, false },
        { "rsa-sha2-256", "RSA", KIND_RSA, false },
        { "rsa-sha2-512", "RSA", KIND_RSA, false },
        { "ssh-rsa-cert-v01@openssh.com", "RSA-CERT", KIND_RSA, true },
        { "rsa-sha2-256-cert-v01@openssh.com", "RSA-CERT", KIND_RSA, true },
        { "rsa-sha2-512-cert-v01@openssh.com", "RSA-CERT", KIND_RSA, true },
        { "ssh-dss", "DSA", KIND_DSA, false },
        { "ssh-dss-cert-v01@openssh.com", "DSA-CERT", KIND_DSA, true },
        { "ssh-xmss@openssh.com", "XMSS", KIND_XMSS, false },
        { "ssh-xmss-cert-v01@openssh.com", "XMSS-CERT", KIND_XMSS, true },
};

/* The name a plain key of each kind is serialised under, hence fingerprinted over. */
static const char *const kind_plain_name[_KIND_MAX] = {
        [KIND_RSA] = "ssh-rsa",
        [KIND_DSA] = "ssh-dss",
        [KIND_ECDSA_P256] = "ecdsa-sha2-nistp256",
        [KIND_ECDSA_P384] = "ecdsa-sha2-nistp384",
        [KIND_ECDSA_P521] = "ecdsa-sha2-nistp521",
        [KIND_ED25519] = "ssh-ed25519",
        [KIND_SK_ECDSA] = "sk-ecdsa-sha2-nistp256@openssh.com",
        [KIND_SK_ED25519] = "sk-ssh-ed25519@openssh.com",
        [KIND_XMSS] = "ssh-xmss@openssh.com",
};

static const struct key_type_info *key_type_lookup(const char *p, size_t n) {
        for (size_t i = 0; i < ELEMENTSOF(key_types); i++)
                if (strlen(key_types[i].name) == n && memcmp(key_types[i].name, p, n) == 0)
                        return &key_types[i];
        return NULL;
}

const char *authkey_type_log_name(const char *key_type) {
        const struct key_type_info *t;

        if (!key_type)
                return NULL;
        t = key_type_lookup(key_type, strlen(key_type));
        return t ? t->log_name : NULL;
}

/* A type sshd of this build does not know yet, but a newer one might: "<name>@openssh.com". */
static bool key_type_tolerated(const char *p, size_t n) {
        static const char suffix[] = "@openssh.com";
        size_t sl = sizeof(suffix) - 1;

        if (n <= sl || n > 128 || memcmp(p + n - sl, suffix, sl) != 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) p[i]) && !(p[i] && strchr("-_.@", p[i])))
                        return false;
        return true;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* ---- SSH wire format reader ------------------------------------------------------------------ */

struct wire {
        const uint8_t *p;
        size_t n;
};

static int wire_u32(struct wire *w, uint32_t *ret) {
        if (w->n < 4)
                return -EBADMSG;
        *ret = (uint32_t) w->p[0] << 24 | (uint32_t) w->p[1] << 16 | (uint32_t) w->p[2] << 8 |
               (uint32_t) w->p[3];
        w->p += 4;
        w->n -= 4;
        return 0;
}

static int wire_skip(struct wire *w, size_t n) {
        if (w->n < n)
                return -EBADMSG;
        w->p += n;
        w->n -= n;
        return 0;
}

static int wire_string(struct wire *w, struct wire *ret) {
        uint32_t len;
        int r;

        r = wire_u32(w, &len);
        if (r < 0)
                return r;
        if (len > w->n)
                return -EBADMSG;
        *ret = (struct wire){ w->p, len };
        w->p += len;
        w->n -= len;
        return 0;
}

static bool wire_eq(struct wire w, const char *s) {
        return w.n == strlen(s) && memcmp(w.p, s, w.n) == 0;
}

/* An append-only byte buffer for the plain key blob, bounded by the blob it is rebuilt from. */
struct plainbuf {
        uint8_t *p;
        size_t n, cap;
};

static void plainbuf_put(struct plainbuf *b, const void *d, size_t n) {
        if (b->n + n > b->cap)
                abort(); /* sized from the input blob up front; overflowing it is our bug */
        memcpy(b->p + b->n, d, n);
        b->n += n;
}

static void plainbuf_put_string(struct plainbuf *b, const void *d, size_t n) {
        uint8_t len[4] = { (uint8_t) (n >> 24), (uint8_t) (n >> 16), (uint8_t) (n >> 8),
                           (uint8_t) n };

        plainbuf_put(b, len, sizeof(len));
        plainbuf_put(b, d, n);
}

/* ---- key blob checks ------------------------------------------------------------------------- */

struct blob_err {
        const char *what;
};

static int blob_fail(struct blob_err *e, const char *what) {
        e->what = what;
        return -EBADMSG;
}

/*
 * sshbuf_get_bignum2_bytes_direct(): refuses negative and overlong values, trims leading zeros.
 * The plain blob gets the canonical form, as sshkey_to_blob() would write it.
 */
static int take_mpint(struct wire *w, struct plainbuf *out, size_t *ret_bits, struct blob_err *e) {
        struct wire v;
        uint8_t zero = 0;
        size_t bits;
        int r;

        r = wire_string(w, &v);
        if (r < 0)
                return blob_fail(e, "truncated key blob");
        if (v.n > 0 && (v.p[0] & 0x80))
                return blob_fail(e, "negative number in key blob");
        if (v.n > BIGNUM_MAX_BYTES + 1 || (v.n == BIGNUM_MAX_BYTES + 1 && v.p[0] != 0))
                return blob_fail(e, "number too large in key blob");
        while (v.n > 0 && v.p[0] == 0) {
                v.p++;
                v.n--;
        }
        bits = v.n * 8;
        if (v.n > 0)
                for (uint8_t top = v.p[0]; !(top & 0x80); top <<= 1)
                        bits--;
        if (ret_bits)
                *ret_bits = bits;
        if (v.n > 0 && (v.p[0] & 0x80)) {
                uint8_t len[4] = { (uint8_t) ((v.n + 1) >> 24), (uint8_t) ((v.n + 1) >> 16),
                                   (uint8_t) ((v.n + 1) >> 8), (uint8_t) (v.n + 1) };
                plainbuf_put(out, len, sizeof(len));
                plainbuf_put(out, &zero, 1);
                plainbuf_put(out, v.p, v.n);
        } else
                plainbuf_put_string(out, v.p, v.n);
        return 0;
}

static void ec_group_freep(EC_GROUP **g) {
        EC_GROUP_free(*g);
}

static void ec_point_freep(EC_POINT **p) {
        EC_POINT_free(*p);
}

/* sshbuf_get_ec() + sshkey_ec_validate_public(): uncompressed, on the curve. */
static int check_ec_point(struct wire q, enum key_kind kind, struct blob_err *e) {
        _cleanup_(ec_group_freep) EC_GROUP *g = NULL;
        _cleanup_(ec_point_freep) EC_POINT *pt = NULL;
        int nid = kind == KIND_ECDSA_P384 ? NID_secp384r1 :
                  kind == KIND_ECDSA_P521 ? NID_secp521r1 :
                                            NID_X9_62_prime256v1;

        if (q.n == 0 || q.p[0] != POINT_CONVERSION_UNCOMPRESSED)
                return blob_fail(e, "invalid EC public key");
        g = EC_GROUP_new_by_curve_name(nid);
        if (!g)
                return -ENOMEM;
        pt = EC_POINT_new(g);
        if (!pt)
                return -ENOMEM;
        if (EC_POINT_oct2point(g, pt, q.p, q.n, NULL) != 1 || EC_POINT_is_at_infinity(g, pt))
                return blob_fail(e, "invalid EC public key");
        return 0;
}

static const char *kind_curve(enum key_kind kind) {
        switch (kind) {
        case KIND_ECDSA_P384:
                return "nistp384";
        case KIND_ECDSA_P521:
                return "nistp521";
        default:
                return "nistp256";
        }
}

/* The public key fields of one kind (sshkey_impl deserialize_public), appended to out as read. */
static int take_key_fields(struct wire *w, enum key_kind kind, struct plainbuf *out,
                           struct blob_err *e) {
        struct wire s, s2;
        size_t bits;
        int r;

        switch (kind) {
        case KIND_RSA:
                /* ssh-rsa.c ssh_rsa_deserialize_public(): e, then n; sshkey_check_rsa_length() */
                r = take_mpint(w, out, NULL, e);
                if (r < 0)
                        return r;
                r = take_mpint(w, out, &bits, e);
                if (r < 0)
                        return r;
                if (bits < RSA_MIN_BITS)
                        return blob_fail(e, "RSA modulus too small");
                return 0;
        case KIND_DSA:
                for (unsigned i = 0; i < 4; i++) { /* p, q, g, pub_key */
                        r = take_mpint(w, out, NULL, e);
                        if (r < 0)
                                return r;
                }
                return 0;
        case KIND_ECDSA_P256:
        case KIND_ECDSA_P384:
        case KIND_ECDSA_P521:
        case KIND_SK_ECDSA:
                if (wire_string(w, &s) < 0 || wire_string(w, &s2) < 0)
                        return blob_fail(e, "truncated key blob");
                if (!wire_eq(s, kind_curve(kind)))
                        return blob_fail(e, "key blob curve does not match key type");
                r = check_ec_point(s2, kind, e);
                if (r < 0)
                        return r;
                plainbuf_put_string(out, s.p, s.n);
                plainbuf_put_string(out, s2.p, s2.n);
                if (kind != KIND_SK_ECDSA)
                        return 0;
                if (wire_string(w, &s) < 0) /* application */
                        return blob_fail(e, "truncated key blob");
                plainbuf_put_string(out, s.p, s.n);
                return 0;
        case KIND_ED25519:
        case KIND_SK_ED25519:
                if (wire_string(w, &s) < 0)
                        return blob_fail(e, "truncated key blob");
                if (s.n != 32) /* ED25519_PK_SZ */
                        return blob_fail(e, "invalid Ed25519 public key length");
                plainbuf_put_string(out, s.p, s.n);
                if (kind != KIND_SK_ED25519)
                        return 0;
                if (wire_string(w, &s) < 0) /* application */
                        return blob_fail(e, "truncated key blob");
                plainbuf_put_string(out, s.p, s.n);
                return 0;
        case KIND_XMSS:
                /* ssh-xmss.c: the parameter set name, then the public key */
                if (wire_string(w, &s) < 0 || wire_string(w, &s2) < 0)
                        return blob_fail(e, "truncated key blob");
                plainbuf_put_string(out, s.p, s.n);
                plainbuf_put_string(out, s2.p, s2.n);
                return 0;
        default:
                abort();
        }
}

/*
 * A whole plain key blob: type string, fields, nothing after. Used for certificate signature keys,
 * which must not be certificates themselves (sshkey.c cert_parse()).
 */
static int check_plain_blob(struct wire w, struct blob_err *e) {
        _cleanup_free_ uint8_t *scratch = NULL;
        const struct key_type_info *t;
        struct plainbuf pb;
        struct wire type;
        int r;

        if (wire_string(&w, &type) < 0)
                return blob_fail(e, "invalid certificate signature key");
        t = key_type_lookup((const char *) type.p, type.n);
        if (!t || t->cert)
                return blob_fail(e, "invalid certificate signature key");
        scratch = malloc(w.n + 16);
        if (!scratch)
                return -ENOMEM;
        pb = (struct plainbuf){ scratch, 0, w.n + 16 };
        r = take_key_fields(&w, t->kind, &pb, e);
        if (r < 0)
                return r == -EBADMSG ? blob_fail(e, "invalid certificate signature key") : r;
        if (w.n != 0)
                return blob_fail(e, "invalid certificate signature key");
        return 0;
}

/* The certificate fields after the public key (PROTOCOL.certkeys), up to the end of the blob. */
static int take_cert_tail(struct wire *w, struct blob_err *e) {
        struct wire s;
        uint32_t type;
        int r;

        if (wire_skip(w, 8) < 0 || wire_u32(w, &type) < 0) /* serial, type */
                return blob_fail(e, "truncated key blob");
        if (type != 1 && type != 2) /* SSH2_CERT_TYPE_USER, SSH2_CERT_TYPE_HOST */
                return blob_fail(e, "unknown certificate type");
        if (wire_string(w, &s) < 0 ||          /* key id */
            wire_string(w, &s) < 0 ||          /* valid principals */
            wire_skip(w, 16) < 0 ||            /* valid after, valid before */
            wire_string(w, &s) < 0 ||          /* critical options */
            wire_string(w, &s) < 0 ||          /* extensions */
            wire_string(w, &s) < 0 ||          /* reserved */
            wire_string(w, &s) < 0)            /* signature key */
                return blob_fail(e, "truncated key blob");
        r = check_plain_blob(s, e);
        if (r < 0)
                return r;
        if (wire_string(w, &s) < 0) /* signature */
                return blob_fail(e, "truncated key blob");
        return 0;
}

static int fingerprint(const uint8_t *blob, size_t len, char **ret) {
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;
        /* "SHA256:" + base64 of 32 bytes (44 with padding) + NUL */
        char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
        char *s;
        int n;

        if (EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL) != 1)
                return -ENOMEM; /* libcrypto's only failure mode for a fetched digest */
        n = EVP_EncodeBlock((unsigned char *) b64, md, (int) mdlen);
        if (n < 0)
                return -ENOMEM;
        while (n > 0 && b64[n - 1] == '=')
                n--;
        b64[n] = '\0';
        if (asprintf(&s, "SHA256:%s", b64) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int authkey_fingerprint_blob(const uint8_t *blob, size_t len, char **ret) {
        assert(blob || len == 0);
        assert(ret);
        return fingerprint(blob, len, ret);
}

/*
 * sshbuf_b64tod() (b64_pton()) wants complete 4-character groups and "=" only as padding; the
 * decoding itself is libcrypto's. EVP_DecodeBlock() counts padding as zero bytes, so the padding
 * is subtracted from its result.
 */
static int decode_base64(const char *p, size_t n, uint8_t **ret, size_t *ret_len) {
        _cleanup_free_ uint8_t *out = NULL;
        size_t pad = 0;
        int r;

        if (n == 0 || n % 4 != 0 || n > INT32_MAX)
                return -EBADMSG;
        while (pad < 2 && p[n - 1 - pad] == '=')
                pad++;
        for (size_t i = 0; i < n - pad; i++)
                if (!isalnum((unsigned char) p[i]) && p[i] != '+' && p[i] != '/')
                        return -EBADMSG;
        out = malloc(n / 4 * 3 + 1);
        if (!out)
                return -ENOMEM;
        r = EVP_DecodeBlock(out, (const unsigned char *) p, (int) n);
        if (r < 0 || (size_t) r != n / 4 * 3)
                return -EBADMSG;
        *ret_len = (size_t) r - pad;
        *ret = TAKE_PTR(out);
        return 0;
}

/*
 * sshkey_read() from the type token on: type, blob, and the fingerprint ssh-keygen prints (over
 * the plain public key; sshkey.c sshkey_fingerprint_raw() serialises with force_plain set).
 * *ret_end points past the blob.
 */
static int read_key(const char *p, const char *end, struct authkey *k, const char **ret_end,
                    const char **what) {
        _cleanup_free_ uint8_t *blob = NULL, *plain = NULL;
        const struct key_type_info *t, *inner;
        struct blob_err e = {};
        const char *tok = p, *b;
        struct plainbuf pb;
        struct wire w, itype, s;
        size_t tlen, blen;
        int r;

        while (p < end && !is_blank(*p))
                p++;
        tlen = (size_t) (p - tok);
        t = key_type_lookup(tok, tlen);
        if (!t && !key_type_tolerated(tok, tlen)) {
                *what = "unknown key type";
                return -EBADMSG;
        }
        while (p < end && is_blank(*p))
                p++;
        if (p == end) {
                *what = "missing key blob";
                return -EBADMSG;
        }
        b = p;
        while (p < end && !is_blank(*p))
                p++;
        r = decode_base64(b, (size_t) (p - b), &blob, &blen);
        if (r == -EBADMSG)
                *what = "invalid base64 in key";
        if (r < 0)
                return r;

        w = (struct wire){ blob, blen };
        if (wire_string(&w, &itype) < 0) {
                *what = "truncated key blob";
                return -EBADMSG;
        }

        if (!t) {
                /* A newer type: only the inner name can be checked; a plain key is its blob. */
                if (itype.n != tlen || memcmp(itype.p, tok, tlen) != 0) {
                        *what = "key blob type does not match declared type";
                        return -EBADMSG;
                }
                if (memmem(tok, tlen, "-cert-v0", strlen("-cert-v0"))) {
                        *what = "unsupported certificate key type";
                        return -EBADMSG;
                }
                r = fingerprint(blob, blen, &k->fingerprint);
                if (r < 0)
                        return r;
        } else {
                inner = key_type_lookup((const char *) itype.p, itype.n);
                if (!inner || inner->kind != t->kind || inner->cert != t->cert) {
                        *what = "key blob type does not match declared type";
                        return -EBADMSG;
                }
                /*
                 * The plain blob is never longer than the blob: the plain name is at most as long
                 * as any name of the kind, and canonical mpints only lose bytes (a missing sign
                 * byte was refused as negative). The slack is for peace of mind.
                 */
                plain = malloc(blen + 64);
                if (!plain)
                        return -ENOMEM;
                pb = (struct plainbuf){ plain, 0, blen + 64 };
                plainbuf_put_string(&pb, kind_plain_name[t->kind],
                                    strlen(kind_plain_name[t->kind]));
                if (t->cert && wire_string(&w, &s) < 0) { /* nonce */
                        *what = "truncated key blob";
                        return -EBADMSG;
                }
                r = take_key_fields(&w, t->kind, &pb, &e);
                if (r == 0 && t->cert)
                        r = take_cert_tail(&w, &e);
                if (r == -EBADMSG)
                        *what = e.what;
                if (r < 0)
                        return r;
                if (w.n != 0) {
                        *what = "trailing data in key blob";
                        return -EBADMSG;
                }
                r = fingerprint(pb.p, pb.n, &k->fingerprint);
                if (r < 0)
                        return r;
        }

        k->key_type = strndup(tok, tlen);
        if (!k->key_type)
                return -ENOMEM;
        *ret_end = p;
        return 0;
}

/* ---- options: auth-options.c sshauthopt_parse(), misc.c opt_flag/opt_match/opt_dequote ---- */

struct optcursor {
        const char *p, *end;
};

static bool opt_at_end(const struct optcursor *c) {
        return c->p >= c->end || is_blank(*c->p);
}

/* opt_flag(): a case-insensitive prefix, "no-" first when negatable. 1 set, 0 negated, -1 no. */
static int opt_flag(struct optcursor *c, const char *name, bool negatable) {
        const char *p = c->p;
        size_t n = strlen(name);
        bool neg = false;

        if (negatable && c->end - p >= 3 && strncasecmp(p, "no-", 3) == 0) {
                p += 3;
                neg = true;
        }
        if ((size_t) (c->end - p) < n || strncasecmp(p, name, n) != 0)
                return -1;
        c->p = p + n;
        return neg ? 0 : 1;
}

/* opt_match(): "name=" case-insensitively. */
static bool opt_match(struct optcursor *c, const char *name) {
        size_t n = strlen(name);

        if ((size_t) (c->end - c->p) <= n || strncasecmp(c->p, name, n) != 0 || c->p[n] != '=')
                return false;
        c->p += n + 1;
        return true;
}

/* opt_dequote(): "..." with \" for a quote; the value may hold blanks. */
static int opt_dequote(struct optcursor *c, char **ret, const char **what) {
        _cleanup_free_ char *v = NULL;
        const char *p = c->p;
        size_t i = 0;

        if (p >= c->end || *p != '"') {
                *what = "missing start quote in option value";
                return -EBADMSG;
        }
        p++;
        v = malloc((size_t) (c->end - p) + 1);
        if (!v)
                return -ENOMEM;
        while (p < c->end && *p != '"') {
                if (p[0] == '\\' && p + 1 < c->end && p[1] == '"')
                        p++;
                v[i++] = *p++;
        }
        if (p >= c->end) {
                *what = "unterminated quote in options";
                return -EBADMSG;
        }
        v[i] = '\0';
        c->p = p + 1;
        *ret = TAKE_PTR(v);
        return 0;
}

static int strv_push(char ***l, size_t *n, char *s) {
        char **nl = reallocarray(*l, *n + 2, sizeof(char *));

        if (!nl)
                return -ENOMEM;
        nl[(*n)++] = s;
        nl[*n] = NULL;
        *l = nl;
        return 0;
}

static bool parse_digits(const char *s, size_t n, unsigned lo, unsigned hi) {
        unsigned v = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        return v >= lo && v <= hi;
}

/* misc.c parse_absolute_time(): YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, optional Z. */
static bool expiry_valid(const char *s) {
        size_t n = strlen(s);

        if (n > 0 && (s[n - 1] == 'Z' || s[n - 1] == 'z'))
                n--;
        if (n != 8 && n != 12 && n != 14)
                return false;
        if (!parse_digits(s, 4, 1, 9999) || !parse_digits(s + 4, 2, 1, 12) ||
            !parse_digits(s + 6, 2, 1, 31))
                return false;
        if (n >= 12 && (!parse_digits(s + 8, 2, 0, 23) || !parse_digits(s + 10, 2, 0, 59)))
                return false;
        if (n == 14 && !parse_digits(s + 12, 2, 0, 60))
                return false;
        return true;
}

/* Both valid expiry times; compared as YYYYMMDDHHMMSS (a trailing Z is not weighed). */
static bool expiry_earlier(const char *a, const char *b) {
        char pa[15] = "00000000000000", pb[15] = "00000000000000";

        memcpy(pa, a, MIN(strspn(a, "0123456789"), (size_t) 14));
        memcpy(pb, b, MIN(strspn(b, "0123456789"), (size_t) 14));
        return strcmp(pa, pb) < 0;
}

/* misc.c valid_env_name() on "NAME=value"; returns the length of NAME or 0. */
static size_t env_name_len(const char *s) {
        const char *eq = strchr(s, '=');

        if (!eq || eq == s)
                return 0;
        for (const char *c = s; c < eq; c++)
                if (!isalnum((unsigned char) *c) && *c != '_')
                        return 0;
        return (size_t) (eq - s);
}

/* misc.c a2port(): a number 1..65535, or a service name (not resolved here). */
static bool port_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0)
                return false;
        if (strspn(s, "0123456789") == n)
                return n <= 5 && parse_digits(s, n, 1, 65535);
        if (!isalpha((unsigned char) s[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && s[i] != '-' && s[i] != '_')
                        return false;
        return true;
}

/* auth-options.c handle_permit() with misc.c hpdelim2(). */
static bool permit_valid(const char *v, bool bare_port_ok) {
        const char *host = v, *sep;

        if (bare_port_ok && !strchr(v, ':'))
                return streq(v, "*") || port_valid(v);
        if (*host == '[') {
                sep = strchr(host, ']');
                if (!sep)
                        return false;
                sep++;
        } else
                sep = host + strcspn(host, ":/");
        if (*sep != ':' && *sep != '/')
                return false; /* no port (or junk after "]") */
        if ((size_t) (sep - host) >= PERMIT_HOST_MAX)
                return false;
        return streq(sep + 1, "*") || port_valid(sep + 1);
}

/* misc.c a2tun(): "any" or a device number. */
static bool tunnel_valid(const char *s) {
        size_t n = strlen(s), colon = strcspn(s, ":");

        /* "N" or "N:M" (the remote part is accepted and ignored by sshd) */
        if (n == 0)
                return false;
        if (strcasecmp(s, "any") == 0)
                return true;
        if (colon == 0 || colon > 10 || strspn(s, "0123456789") != colon)
                return false;
        if (colon < n) {
                const char *rem = s + colon + 1;
                return strcasecmp(rem, "any") == 0 ||
                       (*rem && strspn(rem, "0123456789") == strlen(rem) && strlen(rem) <= 10);
        }
        return true;
}

/* The flag options in the order sshauthopt_parse() tries them (prefixes matter). */
enum flag_opt {
        FLAG_RESTRICT,
        FLAG_CERT_AUTHORITY,
        FLAG_PORT_FORWARDING,
        FLAG_AGENT_FORWARDING,
        FLAG_X11_FORWARDING,
        FLAG_TOUCH_REQUIRED,
        FLAG_VERIFY_REQUIRED,
        FLAG_PTY,
        FLAG_USER_RC,
        _FLAG_MAX,
};

static const struct {
        const char *name;
        bool negatable;
} flag_opts[_FLAG_MAX] = {
        [FLAG_RESTRICT] = { "restrict", false },
        [FLAG_CERT_AUTHORITY] = { "cert-authority", false },
        [FLAG_PORT_FORWARDING] = { "port-forwarding", true },
        [FLAG_AGENT_FORWARDING] = { "agent-forwarding", true },
        [FLAG_X11_FORWARDING] = { "x11-forwarding", true },
        [FLAG_TOUCH_REQUIRED] = { "touch-required", true },
        [FLAG_VERIFY_REQUIRED] = { "verify-required", true },
        [FLAG_PTY] = { "pty", true },
        [FLAG_USER_RC] = { "user-rc", true },
};

/* Returns true when a flag option was consumed. */
static bool take_flag(struct optcursor *c, struct authkey *k) {
        for (enum flag_opt i = 0; i < _FLAG_MAX; i++) {
                int r = opt_flag(c, flag_opts[i].name, flag_opts[i].negatable);
                bool deny = r == 0;

                if (r < 0)
                        continue;
                switch (i) {
                case FLAG_RESTRICT:
                        k->restrict_ = true;
                        k->no_pty = k->no_port_forwarding = k->no_agent_forwarding = true;
                        k->no_x11_forwarding = k->no_user_rc = true;
                        break;
                case FLAG_CERT_AUTHORITY:
                        k->cert_authority = true;
                        break;
                case FLAG_PORT_FORWARDING:
                        k->no_port_forwarding = deny;
                        break;
                case FLAG_AGENT_FORWARDING:
                        k->no_agent_forwarding = deny;
                        break;
                case FLAG_X11_FORWARDING:
                        k->no_x11_forwarding = deny;
                        break;
                case FLAG_TOUCH_REQUIRED:
                        k->no_touch_required = deny;
                        break;
                case FLAG_VERIFY_REQUIRED:
                        k->verify_required = !deny;
                        break;
                case FLAG_PTY:
                        k->no_pty = deny;
                        break;
                case FLAG_USER_RC:
                        k->no_user_rc = deny;
                        break;
                default:
                        abort();
                }
                return true;
        }
        return false;
}

/* A single-valued option; a second one is an error, as in sshd. */
static int take_single(struct optcursor *c, char **field, const char *dup_what,
                       const char **what) {
        if (*field) {
                *what = dup_what;
                return -EBADMSG;
        }
        return opt_dequote(c, field, what);
}

static int take_expiry(struct optcursor *c, struct authkey *k, const char **what) {
        _cleanup_free_ char *v = NULL;
        int r;

        r = opt_dequote(c, &v, what);
        if (r < 0)
                return r;
        if (!expiry_valid(v)) {
                *what = "invalid expiry-time";
                return -EBADMSG;
        }
        /* sshd keeps the earliest of several */
        if (!k->expiry_time || expiry_earlier(v, k->expiry_time)) {
                free(k->expiry_time);
                k->expiry_time = TAKE_PTR(v);
        }
        return 0;
}

static int take_environment(struct optcursor *c, struct authkey *k, size_t *n,
                            const char **what) {
        _cleanup_free_ char *v = NULL;
        size_t nl;
        int r;

        if (*n > OPT_ENV_MAX) {
                *what = "too many environment options";
                return -EBADMSG;
        }
        r = opt_dequote(c, &v, what);
        if (r < 0)
                return r;
        nl = env_name_len(v);
        if (nl == 0) {
                *what = "invalid environment option";
                return -EBADMSG;
        }
        for (size_t i = 0; i < *n; i++)
                if (strncmp(k->environment[i], v, nl) == 0 && k->environment[i][nl] == '=')
                        return 0; /* the first one wins */
        r = strv_push(&k->environment, n, v);
        if (r < 0)
                return r;
        TAKE_PTR(v);
        return 0;
}

static int take_permit(struct optcursor *c, char ***l, size_t *n, bool listen, const char **what) {
        _cleanup_free_ char *v = NULL;
        int r;

        if (*n > OPT_PERMIT_MAX) {
                *what = "too many permission options";
                return -EBADMSG;
        }
        r = opt_dequote(c, &v, what);
        if (r < 0)
                return r;
        if (!permit_valid(v, listen)) {
                *what = listen ? "invalid permitlisten value" : "invalid permitopen value";
                return -EBADMSG;
        }
        r = strv_push(l, n, v);
        if (r < 0)
                return r;
        TAKE_PTR(v);
        return 0;
}

static int take_tunnel(struct optcursor *c, struct authkey *k, const char **what) {
        _cleanup_free_ char *v = NULL;
        int r;

        r = opt_dequote(c, &v, what);
        if (r < 0)
                return r;
        if (!tunnel_valid(v)) {
                *what = "invalid tunnel device";
                return -EBADMSG;
        }
        free(k->tunnel); /* sshd: the last one wins */
        k->tunnel = TAKE_PTR(v);
        return 0;
}

static int parse_options(const char *p, const char *end, struct authkey *k, const char **what) {
        struct optcursor c = { p, end };
        size_t n_open = 0, n_listen = 0, n_env = 0;
        int r = 0;

        while (!opt_at_end(&c)) {
                if (take_flag(&c, k))
                        r = 0;
                else if (opt_match(&c, "command"))
                        r = take_single(&c, &k->command, "multiple command options", what);
                else if (opt_match(&c, "principals"))
                        r = take_single(&c, &k->principals, "multiple principals options", what);
                else if (opt_match(&c, "from"))
                        r = take_single(&c, &k->from, "multiple from options", what);
                else if (opt_match(&c, "expiry-time"))
                        r = take_expiry(&c, k, what);
                else if (opt_match(&c, "environment"))
                        r = take_environment(&c, k, &n_env, what);
                else if (opt_match(&c, "permitopen"))
                        r = take_permit(&c, &k->permitopen, &n_open, false, what);
                else if (opt_match(&c, "permitlisten"))
                        r = take_permit(&c, &k->permitlisten, &n_listen, true, what);
                else if (opt_match(&c, "tunnel"))
                        r = take_tunnel(&c, k, what);
                if (r < 0)
                        return r;

                /*
                 * auth-options.c: "Anything other than a comma is an unknown option". sshd only
                 * refuses a comma at the very end of the line, which cannot happen here (a key
                 * follows), so "a,,b" and "a, key" pass, as they do in sshd.
                 */
                if (opt_at_end(&c))
                        break;
                if (*c.p != ',') {
                        *what = "unknown key option";
                        return -EBADMSG;
                }
                c.p++;
        }

        k->pty = k->restrict_ && !k->no_pty;
        k->port_forwarding = k->restrict_ && !k->no_port_forwarding;
        k->agent_forwarding = k->restrict_ && !k->no_agent_forwarding;
        k->x11_forwarding = k->restrict_ && !k->no_x11_forwarding;
        k->user_rc = k->restrict_ && !k->no_user_rc;
        return 0;
}

/* sshkey.c sshkey_advance_past_options(): to the first blank outside quotes. */
static const char *advance_past_options(const char *p, const char *end) {
        bool quoted = false;

        for (; p < end && (quoted || !is_blank(*p)); p++) {
                if (*p == '\\' && p + 1 < end && p[1] == '"')
                        p++;
                else if (*p == '"')
                        quoted = !quoted;
        }
        return quoted ? NULL : p;
}

struct authkey *authkey_free(struct authkey *k) {
        if (!k)
                return NULL;
        free(k->command);
        free(k->from);
        strv_free(k->permitopen);
        strv_free(k->permitlisten);
        strv_free(k->environment);
        free(k->principals);
        free(k->expiry_time);
        free(k->tunnel);
        free(k->key_type);
        free(k->fingerprint);
        free(k->comment);
        free(k->text);
        free(k->file);
        free(k);
        return NULL;
}

int authkeys_parse_line(const char *line, size_t len, struct authkey **ret,
                        const char **reterr_what) {
        _cleanup_(authkey_freep) struct authkey *k = NULL;
        const char *what = NULL, *p, *end, *opts = NULL, *opts_end = NULL, *key_end = NULL;
        const char *tok, *start;
        int r;

        assert(line || len == 0);
        assert(ret);

        if (len > 0 && line[len - 1] == '\n')
                len--;
        if (len > 0 && line[len - 1] == '\r')
                len--;
        if (len > AUTHKEYS_LINE_MAX) {
                r = -E2BIG;
                what = "line too long";
                goto fail;
        }
        if (memchr(line, '\0', len)) {
                r = -EBADMSG;
                what = "NUL byte in line";
                goto fail;
        }

        p = line;
        end = line + len;
        while (p < end && is_blank(*p))
                p++;
        if (p == end || *p == '#')
                return 0;

        k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;
        start = p;

        /*
         * sshd tries a key at the start of the line first, then options followed by a key. A first
         * token that names a key type means "no options"; anything else is options.
         */
        tok = p;
        while (p < end && !is_blank(*p))
                p++;
        if (key_type_lookup(tok, (size_t) (p - tok)) || key_type_tolerated(tok, (size_t) (p - tok)))
                p = tok;
        else {
                opts = tok;
                opts_end = advance_past_options(tok, end);
                if (!opts_end) {
                        r = -EBADMSG;
                        what = "unterminated quote in options";
                        goto fail;
                }
                p = opts_end;
                while (p < end && is_blank(*p))
                        p++;
                if (p == end) {
                        r = -EBADMSG;
                        what = "options without a key";
                        goto fail;
                }
        }

        r = read_key(p, end, k, &key_end, &what);
        if (r < 0)
                goto fail;

        /* auth2-pubkeyfile.c: options are parsed once a key was read ("bad key options") */
        if (opts) {
                r = parse_options(opts, opts_end, k, &what);
                if (r < 0)
                        goto fail;
        }

        p = key_end;
        while (p < end && is_blank(*p))
                p++;
        while (end > p && (is_blank(end[-1]) || end[-1] == '\r'))
                end--;
        if (p < end) {
                k->comment = strndup(p, (size_t) (end - p));
                if (!k->comment)
                        return -ENOMEM;
        }
        k->text = strndup(start, (size_t) ((k->comment ? end : key_end) - start));
        if (!k->text)
                return -ENOMEM;

        *ret = TAKE_PTR(k);
        return 1;

fail:
        if (r == -EBADMSG || r == -E2BIG) {
                if (reterr_what)
                        *reterr_what = what;
        }
        return r;
}

void authkey_list_done(struct authkey_list *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                authkey_free(l->keys[i]);
        free(l->keys);
        *l = (struct authkey_list){};
}

static void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}

int authkeys_read_line(FILE *f, char *buf, size_t cap, size_t *ret_len, bool *ret_long) {
        size_t n = 0;
        bool toolong = false, any = false;
        int c;

        for (;;) {
                c = getc_unlocked(f);
                if (c == EOF)
                        break;
                any = true;
                if (c == '\n')
                        break;
                if (n < cap)
                        buf[n++] = (char) c;
                else
                        toolong = true;
        }
        if (ferror(f))
                return errno > 0 ? -errno : -EIO;
        if (!any)
                return 0;
        *ret_len = n;
        *ret_long = toolong;
        return 1;
}

/* The lines of f, named path in the keys (see authkeys_parse_file()). */
static int parse_stream(FILE *f, const char *path, bool strict, struct authkey_list *list,
                        unsigned *ret_skipped, unsigned *reterr_line, const char **reterr_what) {
        _cleanup_free_ char *buf = NULL;
        const char *first_what = NULL;
        unsigned lineno = 0, skipped = 0, first_line = 0;
        size_t added = 0;
        int r;

        /* room for a maximal line plus its "\r", so that CRLF does not make it overlong */
        buf = malloc(AUTHKEYS_LINE_MAX + 1);
        if (!buf)
                return -ENOMEM;

        for (;;) {
                _cleanup_(authkey_freep) struct authkey *k = NULL;
                struct authkey **nk;
                const char *what = NULL;
                size_t len;
                bool toolong;

                r = authkeys_read_line(f, buf, AUTHKEYS_LINE_MAX + 1, &len, &toolong);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                lineno++;

                if (toolong) {
                        r = -E2BIG;
                        what = "line too long";
                } else
                        r = authkeys_parse_line(buf, len, &k, &what);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        if (strict) {
                                if (reterr_line)
                                        *reterr_line = lineno;
                                if (reterr_what)
                                        *reterr_what = what;
                                return r;
                        }
                        if (skipped++ == 0) {
                                first_line = lineno;
                                first_what = what;
                        }
                        continue;
                }
                if (r == 0)
                        continue;

                if (added >= AUTHKEYS_ENTRIES_MAX) {
                        if (reterr_line)
                                *reterr_line = lineno;
                        if (reterr_what)
                                *reterr_what = "too many keys in one file (max "
                                               STRINGIFY(AUTHKEYS_ENTRIES_MAX) ")";
                        return -ENOSPC;
                }
                k->file = strdup(path);
                if (!k->file)
                        return -ENOMEM;
                k->line = lineno;
                /* grow by doubling (the capacity is the next power of two of n): a file of
                 * 65,536 keys must not cost 65,536 reallocations */
                if ((list->n & (list->n - 1)) == 0) {
                        nk = reallocarray(list->keys, MAX(list->n * 2, (size_t) 8), sizeof(*nk));
                        if (!nk)
                                return -ENOMEM;
                        list->keys = nk;
                }
                list->keys[list->n++] = TAKE_PTR(k);
                added++;
        }

        if (ret_skipped)
                *ret_skipped = skipped;
        if (skipped > 0) {
                if (reterr_line)
                        *reterr_line = first_line;
                if (reterr_what)
                        *reterr_what = first_what;
        }
        return 0;
}

int authkeys_parse_file(const char *path, bool strict, struct authkey_list *list,
                        unsigned *ret_skipped, unsigned *reterr_line, const char **reterr_what) {
        _cleanup_(fclosep) FILE *f = NULL;

        assert(path);
        assert(list);

        f = fopen(path, "re");
        if (!f)
                return -errno;
        return parse_stream(f, path, strict, list, ret_skipped, reterr_line, reterr_what);
}

int authkeys_parse_buffer(const char *name, const char *data, size_t len, bool strict,
                          struct authkey_list *list, unsigned *ret_skipped, unsigned *reterr_line,
                          const char **reterr_what) {
        _cleanup_(fclosep) FILE *f = NULL;

        assert(name);
        assert(list);

        if (len == 0) {
                if (ret_skipped)
                        *ret_skipped = 0;
                return 0;
        }
        f = fmemopen((void *) data, len, "r");
        if (!f)
                return -errno;
        return parse_stream(f, name, strict, list, ret_skipped, reterr_line, reterr_what);
}
