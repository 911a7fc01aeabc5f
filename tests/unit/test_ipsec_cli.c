/* ipsec CLI: ip xfrm lines, exact errors, show output without keys. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <rte_byteorder.h>
#include <rte_rcu_qsbr.h>

#include "control/cli.h"
#include "control/ipsec_cli.h"
#include "ipsec_env.h"
#include "tables/fib.h"
#include "tables/sad.h"
#include "tables/spd.h"

/* Distinctive key material: none of it may ever show up in a reply. */
#define ENC_KEY "0x0123456789abcdef0123456789abcdef"
#define AUTH_KEY "0xfedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define GCM_KEY "0xa1a2a3a4a5a6a7a8a9aaabacadaeafb0c1c2c3c4"
#define SHA1_KEY "0x1122334455667788990011223344556677889900"

static struct rte_rcu_qsbr *rcu;
static struct cli_out out;
static char *last_words[64];
static int last_n;

/* Run one command line; words stay around so the test can look at them.
 * The word "" is an empty word, as a shell passes it. */
static int run(const char *line)
{
	char *copy = strdup(line), *save = NULL;

	for (int i = 0; i < last_n; i++)
		free(last_words[i]);
	last_n = 0;
	for (char *w = strtok_r(copy, " ", &save); w && last_n < 64; w = strtok_r(NULL, " ", &save))
		last_words[last_n++] = strdup(strcmp(w, "\"\"") == 0 ? "" : w);
	free(copy);
	cli_out_free(&out);
	cli_execute(last_n, last_words, &out);
	return out.status;
}

static const char *text(void)
{
	return out.buf ? out.buf : "";
}

static void no_keys_in(const char *s)
{
	assert_null(strstr(s, "0123456789abcdef"));
	assert_null(strstr(s, "fedcba9876543210"));
	assert_null(strstr(s, "a1a2a3a4"));
	assert_null(strstr(s, "1122334455"));
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(sad_init(rcu, 64, 1), 0);
	assert_int_equal(spd_init(rcu, 64), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cli_out_free(&out);
	spd_destroy();
	sad_destroy();
	return 0;
}

#define SA_OUT "ipsec sa add src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x100 reqid 5 " \
	       "mode tunnel replay-window 64 flag esn auth-trunc hmac(sha256) " AUTH_KEY   \
	       " 128 enc cbc(aes) " ENC_KEY
#define SA_IN "ipsec sa add src 198.51.100.1 dst 192.0.2.1 proto esp spi 0x200 reqid 5 " \
	      "mode tunnel aead rfc4106(gcm(aes)) " GCM_KEY " 128 encap espinudp 4500 4500 "   \
	      "0.0.0.0 sel src 10.0.1.0/24 dst 10.0.0.0/24"

static void test_good_lines(void **state)
{
	(void)state;
	assert_int_equal(run(SA_OUT), 0);
	assert_string_equal(text(), "sa 0x00000100 added: out, valid\n");
	/* The key words of the request were wiped in place. */
	for (int i = 0; i < last_n; i++)
		no_keys_in(last_words[i]);
	assert_int_equal(run(SA_IN), 0);
	assert_string_equal(text(), "sa 0x00000200 added: in, valid\n");
	/* auth without -trunc: the kernel's default truncation. */
	assert_int_equal(run("ipsec sa add src 192.0.2.1 dst 198.51.100.2 proto esp spi 300 "
			     "mode transport enc aes " ENC_KEY " auth sha1 " SHA1_KEY), 0);
	assert_int_equal(run("ipsec sa add src 2001:db8::1 dst 2001:db8::2 proto esp spi 0x301 "
			     "reqid 7 mode tunnel aead rfc7539esp(chacha20,poly1305) "
			     "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
			     "20212223 128 mark 0x10/0xff if_id 3"), 0);
	assert_int_equal(sad_count(), 4);

	assert_int_equal(run("show ipsec sa 300"), 0);
	assert_non_null(strstr(text(), "sa 0x0000012c out valid reqid 0 mode transport"));
	assert_non_null(strstr(text(), "enc cbc(aes) key 128 bits\n"));
	assert_non_null(strstr(text(), "auth hmac(sha1) key 160 bits icv 96 bits\n"));
	assert_null(strstr(text(), "0x00000100"));

	assert_int_equal(run("show ipsec sa 0x200"), 0);
	assert_non_null(strstr(text(), "aead rfc4106(gcm(aes)) key 160 bits icv 128 bits"));
	assert_non_null(strstr(text(), "encap espinudp 4500 4500 oa 0.0.0.0"));
	assert_non_null(strstr(text(), "sel src 10.0.1.0/24 dst 10.0.0.0/24 proto any"));
	assert_non_null(strstr(text(), "replay-window 0 esn no"));

	assert_int_equal(run("show ipsec sa"), 0);
	assert_non_null(strstr(text(), "replay-window 64 esn yes flags esn"));
	assert_non_null(strstr(text(), "mark 0x10/0xff if_id 3"));
	no_keys_in(text());
	assert_int_equal(run("show ipsec sa --json"), 0);
	assert_non_null(strstr(text(), "\"spi_hex\": \"0x00000100\""));
	assert_non_null(strstr(text(), "\"aead\": {\"name\": \"rfc7539esp(chacha20,poly1305)\", "
				       "\"key_bits\": 288, \"icv_bits\": 128}"));
	no_keys_in(text());
}

/* attach_auth_trunc: a truncation of 0 is the algorithm's own. */
static void test_auth_trunc_zero(void **state)
{
	(void)state;
	assert_int_equal(run("ipsec sa add src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x110 "
			     "mode tunnel enc cbc(aes) " ENC_KEY " auth-trunc hmac(sha256) "
			     AUTH_KEY " 0"), 0);
	assert_int_equal(run("show ipsec sa 0x110"), 0);
	assert_non_null(strstr(text(), "auth hmac(sha256) key 256 bits icv 96 bits\n"));
	assert_non_null(strstr(text(), "out valid"));
}

#define SA_TRUNC "ipsec sa add src 192.0.2.1 dst 198.51.100.1 proto esp spi %s mode tunnel " \
		 "enc cbc(aes) " ENC_KEY " auth-trunc hmac(sha1) " SHA1_KEY " %s"

static int run_trunc(const char *spi, const char *bits_and_more)
{
	char line[512];

	snprintf(line, sizeof(line), SA_TRUNC, spi, bits_and_more);
	return run(line);
}

static unsigned icv_len_of(uint32_t spi)
{
	struct sa_id id = { .spi = spi, .proto = IPPROTO_ESP };

	assert_int_equal(ip_addr_parse("198.51.100.1", &id.dst), 0);
	return sad_sa(sad_find(&id))->rt.crypto->icv_len;
}

/*
 * attach_auth_trunc keeps a truncation in bits as given, refusing only
 * more than the digest, and esp_init_authenc gives the SA bits / 8 bytes
 * of ICV; crypto_aead_setauthsize refuses 0 of them and, with ESN,
 * crypto_authenc_esn_setauthsize 1 to 3. ip xfrm state shows the bits.
 */
static void test_auth_trunc_bits(void **state)
{
	(void)state;
	assert_int_equal(run_trunc("0x120", "100"), 0);
	assert_string_equal(text(), "sa 0x00000120 added: out, valid\n");
	assert_int_equal(icv_len_of(0x120), 12);
	assert_int_equal(run("show ipsec sa 0x120"), 0);
	assert_non_null(strstr(text(), "auth hmac(sha1) key 160 bits icv 100 bits\n"));
	assert_int_equal(run("show ipsec sa 0x120 --json"), 0);
	assert_non_null(strstr(text(), "\"auth\": {\"name\": \"hmac(sha1)\", \"key_bits\": 160, "
				       "\"icv_bits\": 100}"));
	/* Without ESN, any whole byte. */
	assert_int_equal(run_trunc("0x121", "23"), 0);
	assert_string_equal(text(), "sa 0x00000121 added: out, valid\n");
	assert_int_equal(icv_len_of(0x121), 2);
	assert_int_equal(run_trunc("0x122", "39 replay-window 32 flag esn"), 0);
	assert_string_equal(text(), "sa 0x00000122 added: out, valid\n");
	assert_int_equal(icv_len_of(0x122), 4);

	assert_int_not_equal(run_trunc("0x123", "7"), 0);
	assert_string_equal(text(), "error: ipsec sa add: 'hmac(sha1)': truncation 7 bits is an "
				    "ICV of 0 bytes (bits / 8), which the kernel refuses\n");
	assert_int_not_equal(run_trunc("0x123", "31 replay-window 32 flag esn"), 0);
	assert_string_equal(text(), "error: ipsec sa add: 'hmac(sha1)': truncation 31 bits is an "
				    "ICV of 3 bytes (bits / 8); with ESN the kernel takes at "
				    "least 4\n");
	assert_int_equal(sad_count(), 3);
}

#define SA_KEYS "ipsec sa add src 192.0.2.1 dst 198.51.100.1 proto esp spi %s mode tunnel " \
		"enc cbc(aes) %s auth hmac(sha256) %s"

static int run_keys(const char *spi, const char *enc_key, const char *auth_key)
{
	char line[CLI_MAX_REQUEST];

	snprintf(line, sizeof(line), SA_KEYS, spi, enc_key, auth_key);
	return run(line);
}

/* "0x" and n hex digits. */
static const char *hex_key(char *buf, size_t digits)
{
	buf[0] = '0';
	buf[1] = 'x';
	memset(buf + 2, 'a', digits);
	buf[2 + digits] = 0;
	return buf;
}

/*
 * Key words as ip xfrm reads them (xfrm_algo_parse): "0x" and hex digits,
 * an odd count read with a leading 0, or else the word's own bytes: "0x"
 * alone is two bytes and the empty word none. The kernel's HMAC takes a
 * key of any length, none too (hmac_setkey), up to the 512 bytes ip xfrm
 * has room for.
 */
static void test_key_words(void **state)
{
	char key[2 + 1026 + 1];

	(void)state;
	assert_int_equal(run_keys("0x130", ENC_KEY, "\"\""), 0);
	assert_string_equal(text(), "sa 0x00000130 added: out, valid\n");
	assert_int_equal(run("show ipsec sa 0x130"), 0);
	assert_non_null(strstr(text(), "auth hmac(sha256) key 0 bits icv 96 bits\n"));
	assert_int_equal(run_keys("0x131", ENC_KEY, "0x"), 0);
	assert_string_equal(text(), "sa 0x00000131 added: out, valid\n");
	assert_int_equal(run("show ipsec sa 0x131"), 0);
	assert_non_null(strstr(text(), "auth hmac(sha256) key 16 bits icv 96 bits\n"));
	assert_int_equal(run_keys("0x132", "0x123456789abcdef0123456789abcdef", "0xabc"), 0);
	assert_string_equal(text(), "sa 0x00000132 added: out, valid\n");
	assert_int_equal(run("show ipsec sa 0x132"), 0);
	assert_non_null(strstr(text(), "enc cbc(aes) key 128 bits\n"));
	assert_non_null(strstr(text(), "auth hmac(sha256) key 16 bits icv 96 bits\n"));
	assert_int_equal(run_keys("0x133", ENC_KEY, hex_key(key, 1024)), 0);
	assert_string_equal(text(), "sa 0x00000133 added: out, valid\n");
	assert_int_equal(run("show ipsec sa 0x133"), 0);
	assert_non_null(strstr(text(), "auth hmac(sha256) key 4096 bits icv 96 bits\n"));

	assert_int_not_equal(run_keys("0x134", ENC_KEY, hex_key(key, 1025)), 0);
	assert_string_equal(text(), "error: ipsec sa add: 'hmac(sha256)': key longer than 4096 "
				    "bits\n");
	assert_int_not_equal(run_keys("0x134", "\"\"", "0x"), 0);
	assert_string_equal(text(), "error: ipsec sa add: 'cbc(aes)': key is 0 bits; cbc(aes) "
				    "takes 128, 192 or 256\n");
	assert_int_not_equal(run_keys("0x134", "0x", "0x"), 0);
	assert_string_equal(text(), "error: ipsec sa add: 'cbc(aes)': key is 16 bits; cbc(aes) "
				    "takes 128, 192 or 256\n");
	assert_int_not_equal(run_keys("0x134", "0x0g", "0x"), 0);
	assert_string_equal(text(), "error: ipsec sa add: 'cbc(aes)': key is not valid hex\n");
	assert_int_equal(sad_count(), 4);
}

#define SA_CIPHER "ipsec sa add src 192.0.2.1 dst 198.51.100.1 proto esp spi %s mode tunnel " \
		  "enc %s %s auth %s %s"

static int run_cipher(const char *spi, const char *enc, const char *enc_key, const char *auth,
		      const char *auth_key)
{
	char line[512];

	snprintf(line, sizeof(line), SA_CIPHER, spi, enc, enc_key, auth, auth_key);
	return run(line);
}

/*
 * Key lengths are what the algorithm's setkey takes, not the pfkey bounds
 * of xfrm_algo.c: blowfish 4 to 56 bytes (BF_MIN_KEY_SIZE), serpent 0 to
 * 32 (SERPENT_MIN_KEY_SIZE), digest_null any (null_hash_setkey). espd runs
 * none of them: the SAs are kept for the kernel.
 */
#define SERPENT_KEY_264 "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"

static void test_setkey_lengths(void **state)
{
	(void)state;
	assert_int_equal(run_cipher("0x140", "cbc(blowfish)", "0x01020304", "hmac(sha1)", SHA1_KEY),
			 0);
	assert_string_equal(text(), "sa 0x00000140 added: out, unsupported\n");
	assert_int_equal(run_cipher("0x141", "cbc(serpent)", "\"\"", "hmac(sha1)", SHA1_KEY), 0);
	assert_int_equal(run_cipher("0x142", "cbc(serpent)", "0x0102", "hmac(sha1)", SHA1_KEY), 0);
	assert_int_equal(run_cipher("0x143", "cbc(aes)", ENC_KEY, "digest_null", "0x0102"), 0);
	assert_string_equal(text(), "sa 0x00000143 added: out, unsupported\n");
	assert_int_equal(run("show ipsec sa 0x143"), 0);
	assert_non_null(strstr(text(), "auth digest_null key 16 bits\n"));

	assert_int_not_equal(run_cipher("0x144", "cbc(blowfish)", "0x010203", "hmac(sha1)",
					 SHA1_KEY), 0);
	assert_string_equal(text(), "error: ipsec sa add: 'cbc(blowfish)': key is 24 bits; "
				    "cbc(blowfish) takes 32 to 448\n");
	assert_int_not_equal(run_cipher("0x144", "cbc(serpent)", SERPENT_KEY_264, "hmac(sha1)",
					 SHA1_KEY), 0);
	assert_string_equal(text(), "error: ipsec sa add: 'cbc(serpent)': key is 264 bits; "
				    "cbc(serpent) takes 0 to 256\n");
	assert_int_equal(sad_count(), 4);
}

/* ICMP's type and code sit in the selector's ports; show names them as
 * ip xfrm does. */
static void test_icmp_selector_shown(void **state)
{
	(void)state;
	assert_int_equal(run("ipsec policy add src 10.0.0.0/24 dst 10.0.7.0/24 proto icmp type 8 "
			     "code 0 dir out action block"), 0);
	assert_int_equal(run("ipsec policy add src 2001:db8::/64 dst 2001:db8:1::/64 "
			     "proto ipv6-icmp type 128 dir in action block"), 0);
	assert_int_equal(run("show ipsec policy"), 0);
	assert_non_null(strstr(text(), "dst 10.0.7.0/24 proto icmp type 8 code 0\n"));
	assert_non_null(strstr(text(), "proto ipv6-icmp type 128\n"));
	assert_int_equal(run("show ipsec policy --json"), 0);
	assert_non_null(strstr(text(), "\"proto\": \"icmp\", \"type\": 8, \"code\": 0}"));
}

/* ip xfrm policy's flag list: names or one hex number, shown by name. */
static void test_policy_flags(void **state)
{
	(void)state;
	assert_int_equal(run("ipsec policy add src 10.0.0.0/24 dst 10.0.7.0/24 dir out flag icmp "
			     "action block"), 0);
	assert_int_equal(run("ipsec policy add src 10.0.0.0/24 dst 10.0.8.0/24 dir out flag 0x3 "
			     "action block"), 0);
	assert_int_equal(run("show ipsec policy"), 0);
	assert_non_null(strstr(text(), "dst 10.0.7.0/24 proto any flag icmp\n"));
	assert_non_null(strstr(text(), "dst 10.0.8.0/24 proto any flag localok icmp\n"));
	assert_int_equal(run("show ipsec policy --json"), 0);
	assert_non_null(strstr(text(), "\"flags\": [\"icmp\"]"));
	assert_int_equal(run("ipsec policy add src 10.0.0.0/24 dst 10.0.9.0/24 dir out flag loud"),
			 -EINVAL);
	assert_non_null(strstr(text(), "'loud': unknown flag"));
}

struct bad {
	const char *line;
	const char *error;
};

#define SA_HEAD "ipsec sa add src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x900 mode tunnel "
#define AUTH " auth-trunc hmac(sha256) " AUTH_KEY " 128"

static const struct bad bad_lines[] = {
	{ SA_HEAD "enc cbc(aez) " ENC_KEY AUTH, "ipsec sa add: 'cbc(aez)': unknown algorithm" },
	{ "ipsec sa add src 192.0.2.1 dst 198.51.100.1 proto esp spi",
	  "ipsec sa add: 'spi': missing value" },
	{ SA_HEAD "enc cbc(aes) 0x0123456789abcdef0123456789abcd" AUTH,
	  "ipsec sa add: 'cbc(aes)': key is 120 bits; cbc(aes) takes 128, 192 or 256" },
	{ SA_HEAD "enc cbc(aes) 0x0123456789abcdef0123456789abcdeZ" AUTH,
	  "ipsec sa add: 'cbc(aes)': key is not valid hex" },
	{ SA_HEAD "aead rfc4106(gcm(aes)) " GCM_KEY " 100",
	  "ipsec sa add: 'rfc4106(gcm(aes))': ICV 100 bits; rfc4106(gcm(aes)) takes 64, 96 or 128" },
	{ SA_HEAD "aead rfc4106(gcm(aes)) " ENC_KEY " 128",
	  "ipsec sa add: 'rfc4106(gcm(aes))': key is 128 bits; rfc4106(gcm(aes)) takes 160, 224 or 288" },
	{ SA_HEAD "enc cbc(aes) " ENC_KEY " auth-trunc hmac(sha1) " SHA1_KEY " 200",
	  "ipsec sa add: 'hmac(sha1)': truncation 200 bits; hmac(sha1) gives at most 160" },
	{ SA_HEAD "enc " ENC_KEY AUTH, "ipsec sa add: 'enc': missing algorithm name" },
	{ SA_HEAD "enc cbc(aes)", "ipsec sa add: 'cbc(aes)': missing key" },
	{ "ipsec sa add src 192.0.2.1 dst 198.51.100.1 proto ah spi 0x900",
	  "ipsec sa add: 'ah': only esp is supported" },
	{ "ipsec sa add src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x900 mode beet",
	  "ipsec sa add: 'beet': mode must be tunnel or transport" },
	{ "ipsec sa add src 192.0.2.1 dst 198.51.100.1 proto esp spi 0xZZ",
	  "ipsec sa add: '0xZZ': bad value for 'spi'" },
	{ "ipsec sa add src 192.0.2.1 dst 198.51.100.300 proto esp spi 1",
	  "ipsec sa add: '198.51.100.300': not an address" },
	{ "ipsec sa add src 192.0.2.1 proto esp spi 0x900 enc cbc(aes) " ENC_KEY,
	  "ipsec sa add: 'dst': required" },
	{ "ipsec sa add src 192.0.2.1 dst 198.51.100.1 spi 0x900 enc cbc(aes) " ENC_KEY,
	  "ipsec sa add: 'proto': required" },
	{ "ipsec sa add src 192.0.2.1 dst 2001:db8::1 proto esp spi 0x900",
	  "ipsec sa add: 'dst': address family differs from src" },
	{ SA_HEAD "colour blue", "ipsec sa add: 'colour': unknown keyword" },
	{ SA_HEAD ENC_KEY, "ipsec sa add: '0x...': unknown keyword" },
	{ SA_HEAD "replay-window 5000 enc cbc(aes) " ENC_KEY AUTH,
	  "ipsec sa add: 'replay-window': at most 4096" },
	{ SA_HEAD "replay-window 0 flag esn enc cbc(aes) " ENC_KEY AUTH,
	  "ipsec sa add: 'replay-window': ESN needs a window above 0" },
	{ SA_HEAD "flag esn bogus", "ipsec sa add: 'bogus': unknown keyword" },
	{ SA_HEAD "flag bogus", "ipsec sa add: 'bogus': unknown flag" },
	{ SA_HEAD AUTH, "ipsec sa add: 'enc': required (or aead)" },
	{ SA_HEAD "aead rfc4106(gcm(aes)) " GCM_KEY " 128 enc cbc(aes) " ENC_KEY,
	  "ipsec sa add: 'aead': cannot be combined with enc or auth" },
	{ SA_HEAD "enc cbc(aes) " ENC_KEY AUTH " encap espintcp 4500 4500 0.0.0.0",
	  "ipsec sa add: 'espintcp': only espinudp encapsulation is supported" },
	{ SA_HEAD "enc cbc(aes) " ENC_KEY " enc cbc(aes) " ENC_KEY,
	  "ipsec sa add: 'enc': given twice" },
	{ "ipsec sa add src 192.0.2.1 dst 198.51.100.1 proto esp spi 0 mode tunnel",
	  "ipsec sa add: 'spi': 0 is reserved (RFC 4303 s.2.1)" },
	{ SA_HEAD "enc cbc(aes) " ENC_KEY AUTH " sel src 10.0.0.0/8 dst 2001:db8::/32",
	  "ipsec sa add: 'dst': address family differs from src" },
	{ "ipsec sa del dst 198.51.100.1 proto esp", "ipsec sa del: 'spi': required" },
	{ "ipsec sa del dst 198.51.100.1 proto esp spi 0x77", "ipsec sa del: no SA spi 0x00000077" },
	{ "ipsec policy add src 10.0.0.0/24 dst 10.0.1.0/24",
	  "ipsec policy add: 'dir': required" },
	{ "ipsec policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir sideways",
	  "ipsec policy add: 'sideways': dir must be in, out or fwd" },
	{ "ipsec policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir out action deny",
	  "ipsec policy add: 'deny': action must be allow or block" },
	{ "ipsec policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir out tmpl proto esp mode tunnel",
	  "ipsec policy add: 'tmpl': tunnel mode needs dst" },
	{ "ipsec policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir out tmpl dst 1.2.3.4 level maybe",
	  "ipsec policy add: 'maybe': level must be required or use" },
	{ "ipsec policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir out tmpl src 192.0.2.1 "
	  "dst 198.51.100.1 proto esp mode tunnel level use",
	  "ipsec policy add: 'use': a tunnel template of an out policy must be level required" },
	{ "ipsec policy add tmpl src 192.0.2.1 dst 198.51.100.1 proto esp mode tunnel level use "
	  "dir out",
	  "ipsec policy add: 'use': a tunnel template of an out policy must be level required" },
	{ "ipsec policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir in tmpl src 198.51.100.1 "
	  "dst 192.0.2.1 proto tcp mode tunnel",
	  "ipsec policy add: 'tcp': not an XFRM protocol (esp, ah, comp, 43 or 60)" },
	{ "ipsec policy add src 192.0.2.1 dst 198.51.100.1 dir out tmpl src 2001:db8::1 "
	  "dst 2001:db8::2 proto esp mode transport",
	  "ipsec policy add: 'transport': a transport template keeps the address family of "
	  "what it follows" },
	{ "ipsec policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir out index 8",
	  "ipsec policy add: '8': the index of an out policy is 1 more than a multiple of 8" },
	{ "ipsec policy add src 10.0.0.0/24 dst 10.0.1.0/24 index 0x11 dir fwd",
	  "ipsec policy add: '0x11': the index of a fwd policy is 2 more than a multiple of 8" },
	{ "ipsec policy add src 10.0.0.0/33 dir out",
	  "ipsec policy add: '10.0.0.0/33': not an address or prefix" },
	{ "ipsec policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir out priority -1",
	  "ipsec policy add: '-1': bad value for 'priority'" },
	{ "ipsec policy del src 10.0.0.0/24 dst 10.0.1.0/24 dir out priority 1",
	  "ipsec policy del: 'priority': unknown keyword" },
	{ "ipsec policy del src 10.0.0.0/24 dst 10.0.1.0/24 dir out",
	  "ipsec policy del: no such policy" },
	{ "show ipsec sa 1 2", "show ipsec sa takes at most an SPI" },
	{ "show ipsec sa one", "show ipsec sa: 'one': bad value for 'spi'" },
};

static void test_bad_lines(void **state)
{
	char expected[512];

	(void)state;
	assert_int_equal(run(SA_OUT), 0);
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		if (run(bad_lines[i].line) == 0)
			fail_msg("accepted: %s", bad_lines[i].line);
		snprintf(expected, sizeof(expected), "error: %s\n", bad_lines[i].error);
		if (strcmp(text(), expected) != 0)
			fail_msg("line: %s\n got: %s want: %s", bad_lines[i].line, text(), expected);
		no_keys_in(text());
		/* Nothing changed. */
		assert_int_equal(sad_count(), 1);
		assert_int_equal(spd_count(), 0);
	}
	assert_int_not_equal(run(SA_OUT), 0);
	assert_string_equal(text(), "error: ipsec sa add: SA spi 0x00000100 dst 198.51.100.1 proto "
				    "esp exists\n");
	assert_int_not_equal(run("ipsec sa add src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x900 "
				 "enc cbc(aez) " ENC_KEY " --json"), 0);
	assert_string_equal(text(), "{\"error\": \"ipsec sa add: 'cbc(aez)': unknown algorithm\"}\n");
}

/* Run one command line, with what espd writes to stderr meanwhile in log. */
static int run_logged(const char *line, char *log, size_t size)
{
	char path[] = "/tmp/test_ipsec_cli_XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO), rc;
	ssize_t n;

	/* Nameless from now on: nothing is left behind should the test fail. */
	unlink(path);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	rc = run(line);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, log, size - 1, 0);
	log[n > 0 ? n : 0] = 0;
	close(fd);
	return rc;
}

static void test_unsupported_algorithm_kept(void **state)
{
	char log[256];

	(void)state;
	assert_int_equal(run_logged("ipsec sa add src 198.51.100.1 dst 192.0.2.1 proto esp spi "
				    "0x400 mode tunnel enc cbc(des3_ede) 0x0123456789abcdef"
				    "0123456789abcdef0123456789abcdef auth hmac(sha1) " SHA1_KEY,
				    log, sizeof(log)), 0);
	assert_string_equal(text(), "sa 0x00000400 added: in, unsupported\n");
	assert_string_equal(log, "linux-cp/ipsec: Invalid/Unsupported crypto algo: cbc(des3_ede) "
				 "keylen: 192\n");
	assert_int_equal(run("show ipsec sa 0x400"), 0);
	assert_non_null(strstr(text(), "unsupported: algorithm or key length not supported"));
	no_keys_in(text());
}

#define SA_MAC "ipsec sa add src 192.0.2.1 dst 198.51.100.1 proto esp spi %s mode tunnel " \
	       "enc cbc(aes) " ENC_KEY " auth %s 0x%.*s"

static int run_mac(const char *spi, const char *alg, int key_bits, char *log, size_t size)
{
	static const char digits[] = "000102030405060708090a0b0c0d0e0f"
				     "101112131415161718191a1b1c1d1e1f";
	char line[512];

	snprintf(line, sizeof(line), SA_MAC, spi, alg, key_bits / 4, digits);
	return run_logged(line, log, size);
}

/*
 * cmac(aes) and xcbc(aes) take the AES cipher's keys, 128, 192 or 256 bits
 * (crypto_cmac_digest_setkey and crypto_xcbc_digest_setkey set the key of
 * their AES). espd implements neither: such an SA is kept for the kernel,
 * logged once, as any whose algorithm espd does not run.
 */
static void test_cmac_xcbc_keys(void **state)
{
	char log[256];

	(void)state;
	assert_int_equal(run_mac("0x410", "cmac(aes)", 192, log, sizeof(log)), 0);
	assert_string_equal(text(), "sa 0x00000410 added: out, unsupported\n");
	assert_string_equal(log, "linux-cp/ipsec: Invalid/Unsupported integ algo: cmac(aes) "
				 "keylen: 192\n");
	assert_int_equal(run_mac("0x411", "xcbc(aes)", 256, log, sizeof(log)), 0);
	assert_string_equal(text(), "sa 0x00000411 added: out, unsupported\n");
	assert_string_equal(log, "linux-cp/ipsec: Invalid/Unsupported integ algo: xcbc(aes) "
				 "keylen: 256\n");
	assert_int_equal(run("show ipsec sa 0x411"), 0);
	assert_non_null(strstr(text(), "auth xcbc(aes) key 256 bits icv 96 bits\n"));
	assert_int_equal(run_mac("0x412", "cmac(aes)", 128, log, sizeof(log)), 0);
	assert_string_equal(text(), "sa 0x00000412 added: out, unsupported\n");

	assert_int_not_equal(run_mac("0x413", "cmac(aes)", 160, log, sizeof(log)), 0);
	assert_string_equal(text(), "error: ipsec sa add: 'cmac(aes)': key is 160 bits; cmac(aes) "
				    "takes 128, 192 or 256\n");
	assert_string_equal(log, "");
	assert_int_equal(sad_count(), 3);
}

/* An SA of spi 0x500 as the XFRM mirror adds it: the kernel's, not the CLI's. */
static uint32_t kernel_sa_add(struct sa_id *id)
{
	struct sa_params kernel = {
		.id = { .spi = 0x500, .proto = IPPROTO_ESP },
		.mode = SA_MODE_TUNNEL,
		.origin = IPSEC_ORIGIN_KERNEL,
		.aead = { .name = "rfc4106(gcm(aes))", .key = (const uint8_t *)"0123456789abcdefghij",
			  .key_bits = 160 },
	};
	uint32_t index;

	assert_int_equal(ip_addr_parse("198.51.100.1", &kernel.src), 0);
	assert_int_equal(ip_addr_parse("192.0.2.1", &kernel.id.dst), 0);
	assert_int_equal(sad_sa_add(&kernel, &index), 0);
	*id = kernel.id;
	return index;
}

static void test_del_and_flush(void **state)
{
	struct sa_id kernel;
	uint32_t index;

	(void)state;
	index = kernel_sa_add(&kernel);
	assert_int_equal(run(SA_OUT), 0);
	assert_int_equal(run("ipsec sa del src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x100"), 0);
	assert_int_equal(sad_count(), 1);
	assert_int_not_equal(run("ipsec sa del dst 192.0.2.1 proto esp spi 0x500"), 0);
	assert_string_equal(text(), "error: ipsec sa del: SA 0x00000500 belongs to the kernel; use "
				    "ip xfrm state del\n");
	assert_int_equal(run(SA_OUT), 0);
	assert_int_not_equal(run("ipsec sa flush now"), 0);
	assert_string_equal(text(), "error: ipsec sa flush takes no arguments\n");
	assert_int_equal(sad_count(), 2);
	assert_int_equal(run("ipsec sa flush"), 0);
	assert_int_equal(sad_count(), 1);
	assert_int_equal(sad_find(&kernel), index);
}

static void test_policies_and_tunnel(void **state)
{
	(void)state;
	assert_int_equal(run(SA_OUT), 0);
	assert_int_equal(run(SA_IN), 0);
	assert_int_equal(run("ipsec policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir out priority 100 "
			     "tmpl src 192.0.2.1 dst 198.51.100.1 proto esp mode tunnel reqid 5"), 0);
	assert_int_equal(run("ipsec policy add src 10.0.1.0/24 dst 10.0.0.0/24 dir fwd priority 100 "
			     "tmpl src 198.51.100.1 dst 192.0.2.1 proto esp mode tunnel reqid 5 "
			     "level required"), 0);
	assert_int_equal(run("ipsec policy add src 10.0.0.0/24 dst 10.0.9.0/24 proto tcp dport 443 "
			     "dir out tmpl src 192.0.2.1 dst 198.51.100.9 mode tunnel reqid 9"), 0);
	assert_int_equal(run("ipsec policy add src 10.0.0.0/24 dst 10.0.8.0/24 dir out action block"),
			 0);
	assert_int_not_equal(run("ipsec policy add src 10.0.0.0/24 dst 10.0.8.0/24 dir out"), 0);
	assert_string_equal(text(), "error: ipsec policy add: a policy with this selector and dir "
				    "exists\n");
	assert_true(spd_active(SPD_DIR_OUT));
	assert_true(spd_plaintext_active());

	assert_int_equal(run("show ipsec policy"), 0);
	assert_non_null(strstr(text(), "policy out priority 100 action allow"));
	assert_non_null(strstr(text(), "    src 10.0.0.0/24 dst 10.0.1.0/24 proto any\n"
				       "    tmpl src 192.0.2.1 dst 198.51.100.1 proto esp spi "
				       "0x00000000 mode tunnel reqid 5 level required\n"
				       "    -> sa 0x00000100\n"));
	assert_non_null(strstr(text(), "proto tcp dport 443"));
	assert_non_null(strstr(text(), "-> no SA\n"));
	assert_non_null(strstr(text(), "-> discard\n"));
	assert_non_null(strstr(text(), "-> requires IPsec\n"));
	assert_int_equal(run("show ipsec policy --json"), 0);
	assert_non_null(strstr(text(), "\"resolution\": \"sa 0x00000100\""));

	assert_int_equal(run("show ipsec tunnel"), 0);
	assert_string_equal(text(),
		"tunnel reqid 5\n"
		"    sa out    0x00000100 192.0.2.1 -> 198.51.100.1 valid packets 0 bytes 0\n"
		"    sa in     0x00000200 198.51.100.1 -> 192.0.2.1 valid packets 0 bytes 0\n"
		"    policy out 10.0.0.0/24 -> 10.0.1.0/24: sa 0x00000100\n"
		"    policy fwd 10.0.1.0/24 -> 10.0.0.0/24: requires IPsec\n"
		"tunnel reqid 9\n"
		"    policy out 10.0.0.0/24 -> 10.0.9.0/24: no SA\n");
	assert_int_equal(run("show ipsec tunnel --json"), 0);
	assert_non_null(strstr(text(), "[{\"reqid\": 5, \"sas\": [{\"spi\": 256, \"direction\": "
				       "\"out\""));

	assert_int_equal(run("ipsec policy del src 10.0.0.0/24 dst 10.0.8.0/24 dir out"), 0);
	assert_int_equal(spd_count(), 3);
	assert_int_equal(run("ipsec policy flush"), 0);
	assert_int_equal(spd_count(), 0);
	assert_false(spd_active(SPD_DIR_OUT));
}

#define SA_NATT "ipsec sa %s src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x101 reqid 5 mode " \
		"tunnel aead rfc4106(gcm(aes)) %s 128%s"

static int run_sa_natt(const char *verb, const char *key, const char *rest)
{
	char line[512];

	snprintf(line, sizeof(line), SA_NATT, verb, key, rest);
	return run(line);
}

/* ip xfrm state update: the encapsulation's ports and the lifetime limits
 * change in the SA as it is (same slot, sequence number, keys); the rest of
 * the line is ignored, as the kernel ignores it. */
static void test_sa_update(void **state)
{
	struct sa_id id = { .spi = 0x101, .proto = IPPROTO_ESP };
	struct sa *sa;

	(void)state;
	assert_int_equal(ip_addr_parse("198.51.100.1", &id.dst), 0);
	assert_int_equal(run(SA_OUT), 0);
	assert_int_equal(run_sa_natt("add", GCM_KEY, " encap espinudp 4500 4500 0.0.0.0"), 0);
	sa = sad_sa(sad_find(&id));
	sa->out.last = 41;
	sa->cfg.soft_expired = true;
	const struct esp_crypto *crypto = sa->rt.crypto;

	assert_int_equal(run_sa_natt("update", "0xb1b2b3b4b5b6b7b8b9babbbcbdbebfc0d1d2d3d4",
				     " encap espinudp 4501 4600 10.9.9.9 limit packet-hard 9"), 0);
	assert_string_equal(text(), "sa 0x00000101 updated: encapsulation and lifetime limits "
				    "(keys, algorithms, mode and flags stay as added)\n");
	for (int i = 0; i < last_n; i++)
		assert_null(strstr(last_words[i], "b1b2b3b4"));
	assert_ptr_equal(sad_sa(sad_find(&id)), sa);
	assert_ptr_equal(sa->rt.crypto, crypto);
	assert_int_equal(sa->out.last, 41);
	assert_int_equal(sa->rt.encap_ports.sport_be, rte_cpu_to_be_16(4501));
	assert_int_equal(sa->rt.encap_ports.dport_be, rte_cpu_to_be_16(4600));
	assert_int_equal(sa->cfg.lifetime.hard_packets, 9);
	assert_false(sa->cfg.soft_expired);
	assert_int_equal(run("show ipsec sa 0x101"), 0);
	assert_non_null(strstr(text(), "encap espinudp 4501 4600 oa 10.9.9.9"));
	assert_non_null(strstr(text(), "packets none/9"));
	assert_int_equal(run_sa_natt("update", GCM_KEY, " encap espinudp 4502 4502 0.0.0.0 --json"),
			 0);
	assert_string_equal(text(), "{\"index\": 1, \"updated\": [\"encap\", \"lifetime\"]}\n");
	assert_int_equal(sa->cfg.lifetime.hard_packets, SA_LIMIT_NONE);

	/* Refused, nothing changed. */
	assert_int_not_equal(run_sa_natt("update", GCM_KEY, ""), 0);
	assert_string_equal(text(), "error: ipsec sa update: 'encap': SA 0x00000101 is ESP in UDP; "
				    "an update cannot change that (delete and add the SA)\n");
	assert_int_not_equal(run("ipsec sa update src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x100 "
				 "mode tunnel enc cbc(aes) " ENC_KEY " encap espinudp 1 2 0.0.0.0"), 0);
	assert_string_equal(text(), "error: ipsec sa update: 'encap': SA 0x00000100 is not ESP in "
				    "UDP; an update cannot change that (delete and add the SA)\n");
	assert_int_not_equal(run("ipsec sa update src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x777 "
				 "mode tunnel enc cbc(aes) " ENC_KEY), 0);
	assert_string_equal(text(), "error: ipsec sa update: no SA spi 0x00000777\n");
	assert_int_not_equal(run_sa_natt("update", GCM_KEY, " encap espinudp 4503 4503 0.0.0.0 "
				     "limit packet-hard"), 0);
	assert_string_equal(text(), "error: ipsec sa update: 'packet-hard': missing value\n");
	assert_int_equal(sa->rt.encap_ports.sport_be, rte_cpu_to_be_16(4502));
	assert_int_equal(sad_count(), 2);
}

/* replay-seq-hi and replay-oseq-hi, as iproute2 puts them in the ESN replay
 * state (XFRMA_REPLAY_ESN_VAL seq_hi, oseq_hi): the high halves of the
 * highest sequence number seen and of the last one sent. Without ESN the
 * kernel uses neither (iproute2 does not even send them for a window of at
 * most 32). */
static void test_replay_seq_hi(void **state)
{
	struct sa_id in = { .spi = 0x400, .proto = IPPROTO_ESP };
	struct sa_id out_id = { .spi = 0x401, .proto = IPPROTO_ESP };
	struct sa_id plain = { .spi = 0x402, .proto = IPPROTO_ESP };
	uint32_t hi;

	(void)state;
	assert_int_equal(ip_addr_parse("192.0.2.1", &in.dst), 0);
	assert_int_equal(ip_addr_parse("198.51.100.1", &out_id.dst), 0);
	plain.dst = in.dst;
	assert_int_equal(run("ipsec sa add src 198.51.100.1 dst 192.0.2.1 proto esp spi 0x400 "
			     "mode tunnel aead rfc4106(gcm(aes)) " GCM_KEY " 128 flag esn "
			     "replay-window 64 replay-seq 5 replay-seq-hi 2"), 0);
	const struct sa *sa = sad_sa(sad_find(&in));
	assert_int_equal(replay_top(&sa->in.w), (2ull << 32) | 5);
	/* A low half below the window's bottom is subspace 3, as the kernel's
	 * xfrm_replay_seqhi infers from seq_hi 2. */
	assert_int_equal(replay_check(&sa->in.w, 1, &hi), 0);
	assert_int_equal(hi, 2);
	assert_int_equal(run("show ipsec sa 0x400"), 0);
	assert_non_null(strstr(text(), "inbound highest 8589934597"));

	assert_int_equal(run("ipsec sa add src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x401 "
			     "mode tunnel aead rfc4106(gcm(aes)) " GCM_KEY " 128 flag esn "
			     "replay-window 64 replay-oseq-hi 1 replay-oseq 0xfffffffe"), 0);
	assert_int_equal(sad_sa(sad_find(&out_id))->out.last, (1ull << 32) | 0xfffffffe);

	assert_int_equal(run("ipsec sa add src 198.51.100.1 dst 192.0.2.1 proto esp spi 0x402 "
			     "mode tunnel aead rfc4106(gcm(aes)) " GCM_KEY " 128 "
			     "replay-window 64 replay-seq 5 replay-seq-hi 2 replay-oseq-hi 3"), 0);
	sa = sad_sa(sad_find(&plain));
	assert_int_equal(replay_top(&sa->in.w), 5);
	assert_int_equal(sa->out.last, 0);

	assert_int_not_equal(run("ipsec sa add src 198.51.100.1 dst 192.0.2.1 proto esp spi 0x403 "
				 "mode tunnel aead rfc4106(gcm(aes)) " GCM_KEY " 128 flag esn "
				 "replay-window 64 replay-seq-hi 4294967296"), 0);
	assert_string_equal(text(), "error: ipsec sa add: '4294967296': bad value for "
				    "'replay-seq-hi'\n");
}

static void test_sa_update_kernels(void **state)
{
	struct sa_id kernel;
	uint32_t index;

	(void)state;
	index = kernel_sa_add(&kernel);
	assert_int_not_equal(run("ipsec sa update src 198.51.100.1 dst 192.0.2.1 proto esp spi 0x500 "
				 "mode tunnel aead rfc4106(gcm(aes)) " GCM_KEY " 128 limit "
				 "packet-hard 1"), 0);
	assert_string_equal(text(), "error: ipsec sa update: SA 0x00000500 belongs to the kernel; "
				    "use ip xfrm state update\n");
	assert_int_equal(sad_sa(index)->cfg.lifetime.hard_packets, 0);
}

#define SA_700 "ipsec sa add src 198.51.100.1 dst 192.0.2.1 proto esp spi 0x700 mode tunnel " \
	       "aead rfc4106(gcm(aes)) " GCM_KEY " 128"

/* xfrm_state_add refuses an SA that __xfrm_state_lookup finds with the new
 * one's mark (its value under its mask): the same SPI, destination and
 * protocol, an existing SA's mask over that mark giving its value, and no
 * if_id compared. Delete finds an SA the same way. */
static void test_sa_identity(void **state)
{
	static const char exists[] = "error: ipsec sa add: SA spi 0x00000700 dst 192.0.2.1 proto "
				     "esp exists\n";

	(void)state;
	assert_int_equal(run(SA_700 " if_id 1"), 0);
	assert_int_not_equal(run(SA_700 " if_id 2"), 0);
	assert_string_equal(text(), exists);
	/* The existing SA's mask (none) takes mark 5 as its value 0. */
	assert_int_not_equal(run(SA_700 " mark 5"), 0);
	assert_string_equal(text(), exists);
	assert_int_equal(sad_count(), 1);
	assert_int_equal(run("ipsec sa del dst 192.0.2.1 proto esp spi 0x700"), 0);
	assert_int_equal(sad_count(), 0);

	/* The other way round, an unmarked SA is not the marked one's. */
	assert_int_equal(run(SA_700 " mark 5 mask 0xff"), 0);
	assert_int_equal(run(SA_700), 0);
	assert_int_not_equal(run(SA_700 " mark 0 mask 0xff"), 0);
	assert_string_equal(text(), exists);
	assert_int_equal(sad_count(), 2);
	assert_int_equal(run("ipsec sa del dst 192.0.2.1 proto esp spi 0x700"), 0);
	assert_int_equal(run("show ipsec sa 0x700"), 0);
	assert_non_null(strstr(text(), "mark 0x5/0xff"));
	assert_int_equal(sad_count(), 1);
}

#define POLICY_OUT "src 10.0.0.0/24 dst 10.0.1.0/24 dir out"

static uint32_t policy_index(const char *sel_dst)
{
	char want[128];
	const char *at;

	snprintf(want, sizeof(want), "dst %s", sel_dst);
	assert_int_equal(run("show ipsec policy"), 0);
	at = strstr(text(), want);
	assert_non_null(at);
	while (at > text() && strncmp(at, " index 0x", 9) != 0)
		at--;
	return (uint32_t)strtoul(at + 9, NULL, 16);
}

/* ip xfrm policy update: add, or replace in place keeping the index. */
static void test_policy_update(void **state)
{
	struct spd_policy_params kernel = { .dir = SPD_DIR_OUT, .origin = IPSEC_ORIGIN_KERNEL,
					    .index = 0x1000 };
	uint32_t index;

	(void)state;
	assert_int_equal(run(SA_OUT), 0);
	assert_int_equal(run("ipsec policy add " POLICY_OUT " action block"), 0);
	index = policy_index("10.0.1.0/24");
	assert_int_equal(run("show ipsec policy"), 0);
	assert_non_null(strstr(text(), "-> discard\n"));
	assert_int_equal(run("ipsec policy update " POLICY_OUT " priority 7 tmpl src 192.0.2.1 "
			     "dst 198.51.100.1 proto esp mode tunnel reqid 5"), 0);
	assert_string_equal(text(), "");
	assert_int_equal(spd_count(), 1);
	assert_int_equal(policy_index("10.0.1.0/24"), index);
	assert_int_equal(run("show ipsec policy"), 0);
	assert_non_null(strstr(text(), "policy out priority 7 action allow"));
	assert_non_null(strstr(text(), "-> sa 0x00000100\n"));
	/* A selector without a policy: added. */
	assert_int_equal(run("ipsec policy update src 10.0.0.0/24 dst 10.0.2.0/24 dir out "
			     "action block"), 0);
	assert_int_equal(spd_count(), 2);

	/* Refused, nothing changed. */
	assert_int_not_equal(run("ipsec policy update " POLICY_OUT " action deny"), 0);
	assert_string_equal(text(), "error: ipsec policy update: 'deny': action must be allow or "
				    "block\n");
	assert_int_equal(ip_prefix_parse("10.0.5.0/24", &kernel.sel.src), 0);
	assert_int_equal(ip_prefix_parse("10.0.6.0/24", &kernel.sel.dst), 0);
	kernel.sel.family = AF_INET;
	kernel.action = SPD_ACTION_BLOCK;
	assert_int_equal(spd_policy_add(&kernel), 0);
	assert_int_equal(spd_commit(), 0);
	assert_int_not_equal(run("ipsec policy update src 10.0.5.0/24 dst 10.0.6.0/24 dir out"), 0);
	assert_string_equal(text(), "error: ipsec policy update: the policy belongs to the kernel; "
				    "use ip xfrm policy update\n");
	assert_int_equal(spd_count(), 3);
	assert_int_equal(run("show ipsec policy"), 0);
	assert_non_null(strstr(text(), "policy out priority 7 action allow"));
	assert_int_equal(spd_policy_find(&kernel)->p.action, SPD_ACTION_BLOCK);
}

/* xfrm_state_update finds the SA without its if_id and gives it the
 * update's if_id, when one is given; out templates of policies with that
 * if_id then take the SA. */
static void test_sa_update_if_id(void **state)
{
	(void)state;
	assert_int_equal(run(SA_OUT), 0);
	assert_int_equal(run("ipsec policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir out if_id 5 "
			     "tmpl src 192.0.2.1 dst 198.51.100.1 proto esp mode tunnel reqid 5"), 0);
	assert_int_equal(run("show ipsec policy"), 0);
	assert_non_null(strstr(text(), "-> no SA\n"));
	assert_int_equal(run("ipsec sa update src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x100 "
			     "reqid 5 mode tunnel enc cbc(aes) " ENC_KEY " if_id 5"), 0);
	assert_int_equal(run("show ipsec sa 0x100"), 0);
	assert_non_null(strstr(text(), "dst 198.51.100.1 proto esp if_id 5\n"));
	assert_int_equal(run("show ipsec policy"), 0);
	assert_non_null(strstr(text(), "-> sa 0x00000100\n"));
	/* Without one, the SA keeps its if_id. */
	assert_int_equal(run("ipsec sa update src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x100 "
			     "reqid 5 mode tunnel enc cbc(aes) " ENC_KEY), 0);
	assert_int_equal(run("show ipsec sa 0x100"), 0);
	assert_non_null(strstr(text(), "dst 198.51.100.1 proto esp if_id 5\n"));
}

/* An index given with a policy is its own unless another policy has it
 * (xfrm_gen_index gives it one then); given or not, no two share one. */
static void test_policy_index(void **state)
{
	(void)state;
	assert_int_equal(run("ipsec policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir out "
			     "index 0x11 action block"), 0);
	assert_int_equal(policy_index("10.0.1.0/24"), 0x11);
	assert_int_equal(run("ipsec policy add src 10.0.0.0/24 dst 10.0.2.0/24 dir out "
			     "index 0x11 action block"), 0);
	uint32_t second = policy_index("10.0.2.0/24");
	assert_int_not_equal(second, 0x11);
	assert_int_equal(second & 7, SPD_DIR_OUT);
	assert_int_equal(run("ipsec policy add src 10.0.0.0/24 dst 10.0.3.0/24 dir out "
			     "index 0x80000009 action block"), 0);
	assert_int_equal(run("ipsec policy add src 10.0.0.0/24 dst 10.0.4.0/24 dir out "
			     "action block"), 0);
	uint32_t fourth = policy_index("10.0.4.0/24");
	assert_int_not_equal(fourth, 0x80000009);
	assert_int_not_equal(fourth, second);
	assert_int_equal(fourth & 7, SPD_DIR_OUT);
	assert_int_equal(policy_index("10.0.3.0/24"), 0x80000009);
	assert_int_equal(run("ipsec policy add src 10.0.0.0/24 dst 10.0.5.0/24 dir in index 0x18"),
			 0);
	assert_int_equal(policy_index("10.0.5.0/24"), 0x18);
}

static const struct spd_policy *out_policy(const char *src, const char *dst)
{
	struct spd_packet_key k = { .family = AF_INET, .proto = IPPROTO_TCP };
	struct ip_addr s, d;

	assert_int_equal(ip_addr_parse(src, &s), 0);
	assert_int_equal(ip_addr_parse(dst, &d), 0);
	memcpy(k.src, s.bytes, 4);
	memcpy(k.dst, d.bytes, 4);
	return spd_lookup(SPD_DIR_OUT, &k);
}

#define POLICY_HOST "src 10.0.0.1/24 dst 10.0.1.0/24 dir out"
#define POLICY_NET "src 10.0.0.0/24 dst 10.0.1.0/24 dir out"

/*
 * A selector keeps its addresses as given, host bits too: ip xfrm copies
 * them into struct xfrm_selector and the kernel keeps them. 10.0.0.1/24
 * and 10.0.0.0/24 are two policies (xfrm_policy_insert compares selectors
 * whole), each shown, updated and deleted as given, while packets match
 * the /24 (addr4_match), the first inserted winning at one priority.
 */
static void test_selector_host_bits(void **state)
{
	(void)state;
	assert_int_equal(run("ipsec policy add " POLICY_HOST " priority 5 action block"), 0);
	assert_int_equal(run("ipsec policy add " POLICY_NET " priority 5"), 0);
	assert_int_equal(spd_count(), 2);
	assert_int_equal(run("show ipsec policy"), 0);
	assert_non_null(strstr(text(), "    src 10.0.0.1/24 dst 10.0.1.0/24 proto any\n"));
	assert_non_null(strstr(text(), "    src 10.0.0.0/24 dst 10.0.1.0/24 proto any\n"));
	assert_int_equal(out_policy("10.0.0.200", "10.0.1.9")->p.action, SPD_ACTION_BLOCK);
	assert_null(out_policy("10.0.2.1", "10.0.1.9"));

	/* Each is found by its own selector. */
	assert_int_equal(run("ipsec policy update " POLICY_NET " priority 5 action block"), 0);
	assert_int_equal(spd_count(), 2);
	assert_int_equal(run("ipsec policy del " POLICY_HOST), 0);
	assert_int_equal(spd_count(), 1);
	assert_int_equal(run("show ipsec policy"), 0);
	assert_null(strstr(text(), "10.0.0.1/24"));
	assert_non_null(strstr(text(), "    src 10.0.0.0/24 dst 10.0.1.0/24 proto any\n"));
	assert_int_equal(out_policy("10.0.0.200", "10.0.1.9")->p.action, SPD_ACTION_BLOCK);
	assert_int_not_equal(run("ipsec policy del " POLICY_HOST), 0);
	assert_string_equal(text(), "error: ipsec policy del: no such policy\n");

	/* An SA's selector too: shown as given, matched as a prefix. */
	assert_int_equal(run("ipsec sa add src 198.51.100.1 dst 192.0.2.1 proto esp spi 0x210 "
			     "mode tunnel aead rfc4106(gcm(aes)) " GCM_KEY " 128 sel src "
			     "10.0.1.9/24 dst 10.0.0.1/25"), 0);
	assert_int_equal(run("show ipsec sa 0x210"), 0);
	assert_non_null(strstr(text(), "sel src 10.0.1.9/24 dst 10.0.0.1/25 proto any\n"));
	struct spd_packet_key k = { .family = AF_INET, .src = { 10, 0, 1, 200 },
				    .dst = { 10, 0, 0, 127 } };
	struct sa_id id = { .spi = 0x210, .proto = IPPROTO_ESP };
	assert_int_equal(ip_addr_parse("192.0.2.1", &id.dst), 0);
	const struct sa *sa = sad_sa(sad_find(&id));
	assert_true(spd_selector_match(&sa->rt.sel, &k));
	k.dst[3] = 128;
	assert_false(spd_selector_match(&sa->rt.sel, &k));
}

/* Run a command that must be refused with error, changing nothing. */
static void refused(const char *line, const char *error)
{
	char expected[512];
	size_t sas = sad_count(), policies = spd_count();

	if (run(line) == 0)
		fail_msg("accepted: %s", line);
	snprintf(expected, sizeof(expected), "error: %s\n", error);
	if (strcmp(text(), expected) != 0)
		fail_msg("line: %s\n got: %s want: %s", line, text(), expected);
	assert_int_equal(sad_count(), sas);
	assert_int_equal(spd_count(), policies);
}

static void shown_in(const char *show, const char *want)
{
	assert_int_equal(run(show), 0);
	if (!strstr(text(), want))
		fail_msg("%s: no \"%s\" in:\n%s", show, want, text());
}

#define GCM_TAIL " proto esp mode tunnel aead rfc4106(gcm(aes)) " GCM_KEY " 128"

/* A line taken (none: the one before), and what a show command then says. */
struct taken {
	const char *line, *show, *shown;
};

static void all_taken(const struct taken *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i].line && run(t[i].line) != 0)
			fail_msg("refused: %s\n%s", t[i].line, text());
		shown_in(t[i].show, t[i].shown);
	}
}

static const struct taken iproute2_addresses[] = {
	{ "ipsec policy add src 10.8 dst 0x0a.1/0x10 dir out action block", "show ipsec policy",
	  "src 10.8.0.0/32 dst 10.1.0.0/16 proto any\n" },
	{ "ipsec policy add src 10.0.0.1/255.255.255.0 dst 10.0.0.0/033 dir out action block",
	  "show ipsec policy", "src 10.0.0.1/24 dst 10.0.0.0/27 proto any\n" },
	{ "ipsec policy add src 010.1/255.255 dst 10.9/any dir in", "show ipsec policy",
	  "src 8.1.0.0/16 dst 10.9.0.0/0 proto any\n" },
	{ "ipsec policy add src 2001:db8::/255.255.0.0 dst 2001:db8:1::/0x30 dir fwd",
	  "show ipsec policy", "src 2001:db8::/16 dst 2001:db8:1::/48 proto any\n" },
	{ "ipsec sa add src 0xc0.0.2.1/24 dst 0306.51.0144.1/0x20 spi 0x230" GCM_TAIL
	  " encap espinudp 4500 4500 10.8", "show ipsec sa 0x230",
	  "src 192.0.2.1 dst 198.51.100.1 proto esp\n" },
	{ NULL, "show ipsec sa 0x230", "encap espinudp 4500 4500 oa 10.8.0.0\n" },
	{ "ipsec policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir out tmpl src 192.0.2.1/8 "
	  "dst 198.51.100 proto esp mode tunnel", "show ipsec policy",
	  "tmpl src 192.0.2.1 dst 198.51.100.0 proto esp" },
};

/* What get_prefix_1 refuses. */
static const char *const bad_prefixes[] = {
	"10.256", "10.1.2.3.4", "08.1", "10.", "10..1", "0x", "10.0.0.0/255.0.255.0",
	"10.0.0.0/0x", "10.0.0.0/", "10.0.0.0/33", "2001:db8::/129", "any/0",
};

/*
 * IPv4 as iproute2's get_addr_ipv4 reads it, not inet_aton: one to four
 * numbers in C's bases, each at most 255, the missing ones 0 (10.8 is
 * 10.8.0.0). A prefix length is a number in C's bases or a netmask
 * (get_netmask, mask2bits), any, all and default among them (0.0.0.0).
 * The SA's and a template's addresses are prefixes whose address ip
 * keeps (xfrm_id_parse); the original address of ESP in UDP is an address.
 */
static void test_iproute2_addresses(void **state)
{
	char line[128], error[128];

	(void)state;
	all_taken(iproute2_addresses, RTE_DIM(iproute2_addresses));
	assert_int_equal(run("ipsec policy del src 10.8.0.0/32 dst 10.1.0.0/16 dir out"), 0);
	assert_int_equal(spd_count(), 4);
	assert_int_equal(run("ipsec sa del dst 198.51.100.1/32 proto esp spi 0x230"), 0);
	assert_int_equal(sad_count(), 0);

	for (size_t i = 0; i < RTE_DIM(bad_prefixes); i++) {
		snprintf(line, sizeof(line), "ipsec policy add src %s dir out", bad_prefixes[i]);
		snprintf(error, sizeof(error), "ipsec policy add: '%s': not an address or prefix",
			 bad_prefixes[i]);
		refused(line, error);
	}
	refused("ipsec sa add src 192.0.2.1/33 dst 198.51.100.1 spi 0x231" GCM_TAIL,
		"ipsec sa add: '192.0.2.1/33': not an address");
	refused("ipsec sa add src 192.0.2.1 dst 198.51.100.1 spi 0x231" GCM_TAIL " encap espinudp "
		"4500 4500 10.0.0.1/32", "ipsec sa add: '10.0.0.1/32': not an address");
}

/* Taken in the family the words before give (policies after a
 * template's, SAs after their selector's); the original address of ESP
 * in UDP is get_addr's in no family: its zero words are the zero address,
 * which the kernel shows in the SA's family, as it does an address of the
 * other family. */
static const struct taken iproute2_zero_words[] = {
	{ "ipsec policy add dir out tmpl src 192.0.2.1 dst 198.51.100.1 proto esp mode tunnel "
	  "src any dst 10.0.0.0/8", "show ipsec policy",
	  "    src 0.0.0.0/0 dst 10.0.0.0/8 proto any\n" },
	{ "ipsec policy add dir out tmpl src 2001:db8::1 dst 2001:db8::2 proto esp mode tunnel "
	  "src default dst all", "show ipsec policy", "    src ::/0 dst ::/0 proto any\n" },
	{ "ipsec sa add sel src 10.0.1.0/24 dst 10.0.0.0/24 mode tunnel src any dst 192.0.2.1 "
	  "spi 0x240 proto esp aead rfc4106(gcm(aes)) " GCM_KEY " 128", "show ipsec sa 0x240",
	  "sa 0x00000240 in valid" },
	{ NULL, "show ipsec sa 0x240", "src 0.0.0.0 dst 192.0.2.1 proto esp\n" },
	{ "ipsec sa add src 192.0.2.1 dst 198.51.100.1 spi 0x242" GCM_TAIL " encap espinudp 4500 "
	  "4500 any", "show ipsec sa 0x242", "encap espinudp 4500 4500 oa 0.0.0.0\n" },
	{ "ipsec sa add src 2001:db8::1 dst 2001:db8::2 spi 0x243" GCM_TAIL " encap espinudp 4500 "
	  "4500 default", "show ipsec sa 0x243", "encap espinudp 4500 4500 oa ::\n" },
	{ "ipsec sa add src 2001:db8::1 dst 2001:db8::2 spi 0x244" GCM_TAIL " encap espinudp 4500 "
	  "4500 10.1.2.3", "show ipsec sa 0x244", "encap espinudp 4500 4500 oa a01:203::\n" },
};

#define NO_FAMILY "no address family to read it in: ip xfrm takes any, all and default only " \
		  "after words that give one (a tmpl before a policy's selector, a sel before " \
		  "an SA's src and dst)"

/* Refused where ip xfrm has no family for them: in a selector's or
 * template's own words, or the other family than the one given. */
static const struct bad iproute2_zero_words_refused[] = {
	{ "ipsec policy add src any dir out", "ipsec policy add: 'any': " NO_FAMILY },
	{ "ipsec policy add src 10.0.0.0/8 dst any dir out",
	  "ipsec policy add: 'any': " NO_FAMILY },
	{ "ipsec policy add src 10.0.0.0/8 dir out tmpl src any dst 198.51.100.1 proto esp mode "
	  "tunnel", "ipsec policy add: 'any': " NO_FAMILY },
	{ "ipsec policy add dir out tmpl proto esp mode transport src default",
	  "ipsec policy add: 'default': " NO_FAMILY },
	{ "ipsec policy add dir out tmpl src 192.0.2.1 dst 198.51.100.1 proto esp mode tunnel "
	  "src 2001:db8::/32", "ipsec policy add: '2001:db8::/32': not an IPv4 address, the "
	  "family the 'tmpl' before gives (as ip xfrm reads it)" },
	{ "ipsec policy del src all dst all dir out", "ipsec policy del: 'all': " NO_FAMILY },
	{ "ipsec sa add src 198.51.100.1 dst 192.0.2.1 spi 0x241" GCM_TAIL " sel src any",
	  "ipsec sa add: 'any': " NO_FAMILY },
	{ "ipsec sa add src any dst 192.0.2.1 spi 0x241" GCM_TAIL,
	  "ipsec sa add: 'any': " NO_FAMILY },
	{ "ipsec sa add sel proto tcp mode tunnel src any dst 192.0.2.1 spi 0x241" GCM_TAIL,
	  "ipsec sa add: 'any': " NO_FAMILY },
	{ "ipsec sa del src any dst 192.0.2.1 proto esp spi 0x240",
	  "ipsec sa del: 'any': " NO_FAMILY },
};

static void all_refused(const struct bad *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		refused(b[i].line, b[i].error);
}

/*
 * any, all and default are the zero prefix /0 of the family ip xfrm
 * reads addresses in (get_prefix_1), and refused without one. That
 * family is none in a selector's or template's own words; it is the
 * template's for the words after a template (xfrm_tmpl_parse), the
 * selector's for those after an SA's sel (xfrm_state_modify), and then
 * an address of the other family is refused too.
 */
static void test_iproute2_zero_words(void **state)
{
	(void)state;
	all_taken(iproute2_zero_words, RTE_DIM(iproute2_zero_words));
	assert_int_equal(run("ipsec policy del src 0.0.0.0/0 dst 10.0.0.0/8 dir out"), 0);
	assert_int_equal(spd_count(), 1);
	all_refused(iproute2_zero_words_refused, RTE_DIM(iproute2_zero_words_refused));
}

static const struct sa *sa_of(uint32_t spi, const char *dst)
{
	struct sa_id id = { .spi = spi, .proto = IPPROTO_ESP };

	assert_int_equal(ip_addr_parse(dst, &id.dst), 0);
	return sad_sa(sad_find(&id));
}

#define SA_25X "ipsec sa add src 192.0.2.1 dst 198.51.100.1 spi "

/* Flags as xfrm_state_flag_parse reads them, numbers as get_u8 to get_u64
 * (strtoul's bases, -0 is 0, a 64-bit -2 is 2^64 - 2), ports as
 * xfrm_selector_upspec_parse. */
static const struct taken iproute2_numbers[] = {
	{ SA_25X "0x250" GCM_TAIL " flag 0x1", "show ipsec sa 0x250", "esn no flags noecn\n" },
	{ SA_25X "0x251" GCM_TAIL " replay-window 32 flag esn flag 0x2", "show ipsec sa 0x251",
	  "esn no flags decap-dscp\n" },
	{ SA_25X "0x252" GCM_TAIL " replay-window 32 flag 0x82 flag nopmtudisc",
	  "show ipsec sa 0x252", "esn yes flags decap-dscp nopmtudisc esn\n" },
	{ SA_25X "0x253" GCM_TAIL " flag reqid 5 extra-flag dont-encap-dscp oseq-may-wrap",
	  "show ipsec sa 0x253", "reqid 5 mode tunnel" },
	{ SA_25X "0x254" GCM_TAIL " extra-flag 0x2 reqid -0 replay-window 010 if_id 0x5 limit "
	  "packet-hard -2 encap espinudp 0x1194 +4500 any", "show ipsec sa 0x254",
	  "reqid 0 mode tunnel" },
	{ NULL, "show ipsec sa 0x254", "proto esp if_id 5\n" },
	{ NULL, "show ipsec sa 0x254", "replay-window 8 esn no" },
	{ NULL, "show ipsec sa 0x254", "packets none/18446744073709551614 " },
	{ NULL, "show ipsec sa 0x254", "encap espinudp 4500 4500 oa 0.0.0.0\n" },
	{ "ipsec policy add src 10.0.0.0/8 proto tcp sport 0 dport 0x50 dir out priority -0 "
	  "index 0x11 action block", "show ipsec policy",
	  "policy out priority 0 action block index 0x11 " },
	{ NULL, "show ipsec policy", "proto tcp dport 80\n" },
	{ "ipsec policy add src 10.0.0.0/8 proto icmp type 0 code 0 dir out", "show ipsec policy",
	  "proto icmp type 0 code 0\n" },
};

static const struct bad iproute2_numbers_refused[] = {
	{ SA_25X "0x255" GCM_TAIL " flag 0x100", "ipsec sa add: '0x100': bad value for 'flag'" },
	{ SA_25X "0x255" GCM_TAIL " flag 0X1", "ipsec sa add: '0X1': unknown flag" },
	{ SA_25X "0x255" GCM_TAIL " flag 1", "ipsec sa add: '1': unknown flag" },
	{ SA_25X "0x255" GCM_TAIL " flag 0x", "ipsec sa add: '0x': unknown flag" },
	{ SA_25X "0x255" GCM_TAIL " flag 0x80 esn", "ipsec sa add: 'esn': unknown keyword" },
	{ SA_25X "0x255" GCM_TAIL " flag", "ipsec sa add: 'flag': missing value" },
	{ SA_25X "0x255" GCM_TAIL " extra-flag 0x100000000",
	  "ipsec sa add: '0x...': bad value for 'extra-flag'" },
	{ SA_25X "0x255" GCM_TAIL " extra-flag bogus",
	  "ipsec sa add: 'bogus': unknown extra-flag" },
	{ SA_25X "-1" GCM_TAIL, "ipsec sa add: '-1': bad value for 'spi'" },
	{ SA_25X "0x255" GCM_TAIL " reqid -1", "ipsec sa add: '-1': bad value for 'reqid'" },
	{ "ipsec policy add src 10.0.0.0/8 proto icmp type 256 dir out",
	  "ipsec policy add: '256': bad value for 'type': at most 255" },
	{ "ipsec policy add src 10.0.0.0/8 proto icmp code 0x100 dir out",
	  "ipsec policy add: '0x100': bad value for 'code': at most 255" },
};

/*
 * xfrm_state_flag_parse: "flag 0x" and hex digits is the flag byte, in
 * place of the flags before; a list of names may be empty. A selector's
 * port 0 selects any port, while an ICMP type or code of 0 selects itself.
 */
static void test_iproute2_numbers(void **state)
{
	(void)state;
	all_taken(iproute2_numbers, RTE_DIM(iproute2_numbers));
	assert_int_equal(sa_of(0x253, "198.51.100.1")->rt.extra_flags,
			 SA_XFLAG_DONT_ENCAP_DSCP | SA_XFLAG_OSEQ_MAY_WRAP);
	assert_int_equal(sa_of(0x254, "198.51.100.1")->rt.extra_flags, SA_XFLAG_OSEQ_MAY_WRAP);
	assert_int_equal(sad_count(), 5);
	all_refused(iproute2_numbers_refused, RTE_DIM(iproute2_numbers_refused));
}

/* Taken as ip xfrm takes them: a port without a protocol, the last
 * protocol of a selector, a port of 0 selecting any port. */
static const struct taken iproute2_runs[] = {
	{ "ipsec policy add src 10.0.0.0/8 sport 5 dir out", "show ipsec policy",
	  "src 10.0.0.0/8 dst 0.0.0.0/0 proto any sport 5\n" },
	{ "ipsec policy add src 10.1.0.0/16 proto tcp sport 0 dport 5 proto udp dir out",
	  "show ipsec policy", "src 10.1.0.0/16 dst 0.0.0.0/0 proto udp dport 5\n" },
	{ "ipsec policy add src 10.2.0.0/16 proto sctp dport 5 dir out", "show ipsec policy",
	  "proto sctp dport 5\n" },
	{ "ipsec policy add src 10.3.0.0/16 proto mobility-header type 5 dir out",
	  "show ipsec policy", "proto mobility-header type 5\n" },
	{ SA_25X "0x260" GCM_TAIL " sel src 10.0.0.0/8 sport 5", "show ipsec sa 0x260",
	  "sel src 10.0.0.0/8 dst 0.0.0.0/0 proto any sport 5\n" },
};

/* What xfrm_selector_upspec_parse refuses, and a selector's words in two
 * runs (ip xfrm: duplicate), such as after a template's. */
static const struct bad iproute2_runs_refused[] = {
	{ "ipsec policy add src 10.0.0.0/8 proto icmp sport 5 dir out",
	  "ipsec policy add: 'sport': only with proto tcp, udp, sctp or dccp (or none), as ip "
	  "xfrm takes it, not icmp" },
	{ "ipsec policy add src 10.0.0.0/8 proto gre dport 5 dir out",
	  "ipsec policy add: 'dport': only with proto tcp, udp, sctp or dccp (or none), as ip "
	  "xfrm takes it, not gre" },
	{ "ipsec policy add src 10.0.0.0/8 type 5 dir out",
	  "ipsec policy add: 'type': only with proto icmp, ipv6-icmp or mobility-header, as ip "
	  "xfrm takes it, not any" },
	{ "ipsec policy add src 10.0.0.0/8 proto icmp code 1 proto tcp dir out",
	  "ipsec policy add: 'code': only with proto icmp, ipv6-icmp or mobility-header, as ip "
	  "xfrm takes it, not tcp" },
	{ SA_25X "0x261" GCM_TAIL " sel proto tcp type 1",
	  "ipsec sa add: 'type': only with proto icmp, ipv6-icmp or mobility-header, as ip xfrm "
	  "takes it, not tcp" },
	{ "ipsec policy add src 10.0.0.0/8 dir out dst 10.1.0.0/16",
	  "ipsec policy add: 'dst': the selector's words come in one run, as ip xfrm reads them" },
	{ "ipsec policy add src 10.0.0.0/8 dir out tmpl src 192.0.2.1 dst 198.51.100.1 proto esp "
	  "mode tunnel src 10.1.0.0/16",
	  "ipsec policy add: 'src': the selector's words come in one run, as ip xfrm reads them" },
	{ "ipsec policy add src 10.0.0.0/8 dir out tmpl src 192.0.2.1 dst 198.51.100.1 proto esp "
	  "mode tunnel spi 5", "ipsec policy add: 'spi': unknown keyword" },
};

/* A selector's words, and a template's ID, are one run each; ports and
 * ICMP words go with their protocols (xfrm_selector_upspec_parse). */
static void test_iproute2_word_runs(void **state)
{
	(void)state;
	all_taken(iproute2_runs, RTE_DIM(iproute2_runs));
	all_refused(iproute2_runs_refused, RTE_DIM(iproute2_runs_refused));
}

int main(void)
{
	if (!(rcu = ipsec_env_start("test_ipsec_cli", 1)))
		return 1;
	ipsec_env_local_route("192.0.2.1/32");
	ipsec_cli_register();

	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsupported_algorithm_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_del_and_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policies_and_tunnel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sa_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sa_update_kernels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_seq_hi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sa_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sa_update_if_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_trunc_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_trunc_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_words, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmac_xcbc_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setkey_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_selector_shown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_selector_host_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iproute2_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iproute2_zero_words, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iproute2_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iproute2_word_runs, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	for (int i = 0; i < last_n; i++)
		free(last_words[i]);
	ipsec_env_stop(rcu);
	return rc;
}
