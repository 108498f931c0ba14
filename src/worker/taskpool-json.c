/* The task pool's JSON (see taskpool.h): whether a result line is one
 * JSON object, as jansson would parse it (decides a retry on the host;
 * the line itself is parsed at home), and quoting strings for records.
 * libc only, like taskpool.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taskpool.h"

#define TP_JSON_DEPTH	2048	/* as jansson's parser */

struct tp_json {
	const unsigned char	*s, *end;
	int			 depth;
};

static void
tp_json_ws(struct tp_json *j)
{
	while (j->s < j->end && (*j->s == ' ' || *j->s == '\t' ||
	    *j->s == '\n' || *j->s == '\r'))
		j->s++;
}

/* Length of the UTF-8 sequence at s (1-4), or 0 when it is not one:
 * overlong forms, surrogates and code points past U+10FFFF are not. */
static size_t
tp_utf8_len(const unsigned char *s, const unsigned char *end)
{
	unsigned c = s[0], cp;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(end - s) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

static int
tp_json_hex4(const unsigned char *s, unsigned *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		unsigned c = s[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		*v = (*v << 4) | d;
	}
	return 0;
}

/* A string, as jansson accepts it: UTF-8, no \u0000, paired surrogates. */
static int
tp_json_string(struct tp_json *j)
{
	unsigned v, w;
	size_t n;

	j->s++;
	while (j->s < j->end) {
		if (*j->s == '"') {
			j->s++;
			return 0;
		}
		if (*j->s < 0x20)
			return -1;
		if (*j->s != '\\') {
			if ((n = tp_utf8_len(j->s, j->end)) == 0)
				return -1;
			j->s += n;
			continue;
		}
		if (j->end - j->s < 2)
			return -1;
		switch (j->s[1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n':
		case 'r': case 't':
			j->s += 2;
			continue;
		case 'u':
			break;
		default:
			return -1;
		}
		if (j->end - j->s < 6 || tp_json_hex4(j->s + 2, &v) != 0 ||
		    v == 0 || (v >= 0xdc00 && v <= 0xdfff))
			return -1;
		j->s += 6;
		if (v >= 0xd800 && v <= 0xdbff) {
			if (j->end - j->s < 6 || j->s[0] != '\\' ||
			    j->s[1] != 'u' || tp_json_hex4(j->s + 2, &w) != 0 ||
			    w < 0xdc00 || w > 0xdfff)
				return -1;
			j->s += 6;
		}
	}
	return -1;
}

/* A number; integers must fit in 64 bits and reals in a double, as
 * jansson requires (the real's range is checked by its exponent). */
static int
tp_json_number(struct tp_json *j)
{
	const unsigned char *d0, *p = j->s;
	int neg = 0, real = 0;
	long exp = 0, lead;
	size_t ndig;

	if (p < j->end && *p == '-')
		neg = 1, p++;
	d0 = p;
	if (p >= j->end || *p < '0' || *p > '9')
		return -1;
	if (*p == '0')
		p++;
	else
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	ndig = (size_t)(p - d0);
	if (p < j->end && *p == '.') {
		real = 1;
		if (++p >= j->end || *p < '0' || *p > '9')
			return -1;
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		int eneg = 0;

		real = 1;
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p >= j->end || *p < '0' || *p > '9')
			return -1;
		while (p < j->end && *p >= '0' && *p <= '9') {
			if (exp < 100000)
				exp = exp * 10 + (*p - '0');
			p++;
		}
		if (eneg)
			exp = -exp;
	}
	if (!real) {
		const char *max = neg ? "9223372036854775808" :
		    "9223372036854775807";

		if (ndig > 19 || (ndig == 19 && memcmp(d0, max, 19) > 0))
			return -1;
	} else {
		/* The decimal exponent of the first non-zero digit. */
		const unsigned char *q = d0;

		lead = (long)ndig - 1;
		while (q < p && (*q == '0' || *q == '.')) {
			if (*q == '0')
				lead--;
			q++;
		}
		if (q < p && *q >= '1' && *q <= '9' && lead + exp > 308)
			return -1;
	}
	j->s = p;
	return 0;
}

static int tp_json_value(struct tp_json *);

static int
tp_json_container(struct tp_json *j, int object)
{
	int close = object ? '}' : ']';

	if (++j->depth > TP_JSON_DEPTH)
		return -1;
	j->s++;
	tp_json_ws(j);
	if (j->s < j->end && *j->s == close) {
		j->s++;
		j->depth--;
		return 0;
	}
	for (;;) {
		if (object) {
			if (j->s >= j->end || *j->s != '"' ||
			    tp_json_string(j) != 0)
				return -1;
			tp_json_ws(j);
			if (j->s >= j->end || *j->s != ':')
				return -1;
			j->s++;
			tp_json_ws(j);
		}
		if (tp_json_value(j) != 0)
			return -1;
		tp_json_ws(j);
		if (j->s < j->end && *j->s == ',') {
			j->s++;
			tp_json_ws(j);
			continue;
		}
		if (j->s < j->end && *j->s == close) {
			j->s++;
			j->depth--;
			return 0;
		}
		return -1;
	}
}

static int
tp_json_word(struct tp_json *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->s) < n || memcmp(j->s, w, n) != 0)
		return -1;
	j->s += n;
	return 0;
}

static int
tp_json_value(struct tp_json *j)
{
	if (j->s >= j->end)
		return -1;
	switch (*j->s) {
	case '{':
		return tp_json_container(j, 1);
	case '[':
		return tp_json_container(j, 0);
	case '"':
		return tp_json_string(j);
	case 't':
		return tp_json_word(j, "true");
	case 'f':
		return tp_json_word(j, "false");
	case 'n':
		return tp_json_word(j, "null");
	default:
		return tp_json_number(j);
	}
}

int
taskpool_json_object(const char *s, size_t n)
{
	struct tp_json j = { (const unsigned char *)s,
	    (const unsigned char *)s + n, 0 };

	tp_json_ws(&j);
	if (j.s >= j.end || *j.s != '{' || tp_json_value(&j) != 0)
		return 0;
	tp_json_ws(&j);
	return j.s == j.end;
}

char *
taskpool_json_quote(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + n;
	char *out = malloc(n * 6 + 3), *o;
	size_t len;

	if (out == NULL)
		abort();
	o = out;
	*o++ = '"';
	while (s < end) {
		unsigned c = *s;

		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
			s++;
		} else if (c < 0x20) {
			*o++ = '\\';
			switch (c) {
			case '\b': *o++ = 'b'; break;
			case '\f': *o++ = 'f'; break;
			case '\n': *o++ = 'n'; break;
			case '\r': *o++ = 'r'; break;
			case '\t': *o++ = 't'; break;
			default:
				o += sprintf(o, "u%04x", c);
			}
			s++;
		} else if ((len = tp_utf8_len(s, end)) == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);	/* U+FFFD */
			o += 3;
			s++;
		} else {
			memcpy(o, s, len);
			o += len;
			s += len;
		}
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

