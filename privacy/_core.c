/* Compiled twin of privacy/_pycore.py: mask every IP address in a byte string.
 *
 * One pass over the input. Runs of [A-Za-z0-9_:.%] are split into segments at escapes (%XX,
 * and a \x.. / \u.... / \c escape at a run start), segments into words at "." and ":" (or
 * "%3A"); dotted quads and colon chains of hex words are checked against the rules in
 * docs/log-masking.md and masked with integer arithmetic. Output is byte-identical to the
 * Python reference (tests/privacy/test_cores.py); keep the two in step.
 *
 *   mask(data: bytes, ipv4_prefix: int, ipv6_prefix: int, versions: bool) -> (bytes, int)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

enum { SEP_END = 0, SEP_COLON = 1, SEP_DOT = 2 };
#define MAX_FIELDS 16

typedef struct {
    Py_ssize_t start, end; /* the word */
    Py_ssize_t sep_end;    /* end of the separator after it (== end for SEP_END) */
    int sep;
} Word;

typedef struct {
    const unsigned char *data;
    Py_ssize_t len;
    uint32_t v4_mask;
    u128 v6_mask;
    int versions;
    /* output: data[0:copied] is already in out (as masked text) */
    char *out;
    Py_ssize_t out_len, out_cap, copied;
    Py_ssize_t count;
    int failed;
    Word *words;
    Py_ssize_t words_cap;
} Ctx;

static unsigned char cls[256];
#define C_RUN 1
#define C_WORD 2
#define C_HEX 4
#define C_DIGIT 8
#define C_LETTER 16
#define C_KEYGAP 32

static void init_tables(void) {
    for (int c = 0; c < 256; c++) {
        unsigned char v = 0;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) v |= C_RUN | C_WORD | C_LETTER;
        if (c >= '0' && c <= '9') v |= C_RUN | C_WORD | C_HEX | C_DIGIT;
        if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) v |= C_HEX;
        if (c == '_') v |= C_RUN | C_WORD;
        if (c == ':' || c == '.' || c == '%') v |= C_RUN;
        if (c == '"' || c == '\'' || c == ' ' || c == '=' || c == ':') v |= C_KEYGAP;
        cls[c] = v;
    }
}

static int emit(Ctx *ctx, Py_ssize_t start, Py_ssize_t end, const char *text, Py_ssize_t n) {
    Py_ssize_t need = ctx->out_len + (start - ctx->copied) + n;
    if (need > ctx->out_cap) {
        Py_ssize_t cap = ctx->out_cap ? ctx->out_cap : ctx->len + 64;
        while (cap < need) cap *= 2;
        char *grown = realloc(ctx->out, cap);
        if (!grown) { ctx->failed = 1; return -1; }
        ctx->out = grown;
        ctx->out_cap = cap;
    }
    memcpy(ctx->out + ctx->out_len, ctx->data + ctx->copied, start - ctx->copied);
    ctx->out_len += start - ctx->copied;
    memcpy(ctx->out + ctx->out_len, text, n);
    ctx->out_len += n;
    ctx->copied = end;
    ctx->count++;
    return 0;
}

static int octet(const unsigned char *d, Py_ssize_t s, Py_ssize_t e) {
    if (e - s < 1 || e - s > 3) return -1;
    int v = 0;
    for (Py_ssize_t i = s; i < e; i++) {
        if (!(cls[d[i]] & C_DIGIT)) return -1;
        v = v * 10 + (d[i] - '0');
    }
    return v <= 255 ? v : -1;
}

static int is_hexy(const unsigned char *d, Py_ssize_t s, Py_ssize_t e) {
    if (e - s > 4) return 0;
    for (Py_ssize_t i = s; i < e; i++)
        if (!(cls[d[i]] & C_HEX)) return 0;
    return 1;
}

static int ends_with_version(const unsigned char *d, Py_ssize_t end) {
    static const char v[] = "version";
    if (end < 7) return 0;
    for (int i = 0; i < 7; i++) {
        unsigned char c = d[end - 7 + i];
        if (c >= 'A' && c <= 'Z') c += 32;
        if (c != (unsigned char)v[i]) return 0;
    }
    return 1;
}

static int colon_at(const Ctx *ctx, Py_ssize_t pos) {
    const unsigned char *d = ctx->data;
    if (pos < ctx->len && d[pos] == ':') return 1;
    return pos + 2 < ctx->len && d[pos] == '%' && d[pos + 1] == '3' && (d[pos + 2] | 32) == 'a';
}

static int put_decimal(char *buf, unsigned v) {
    int n = 0;
    if (v >= 100) buf[n++] = (char)('0' + v / 100);
    if (v >= 10) buf[n++] = (char)('0' + v / 10 % 10);
    buf[n++] = (char)('0' + v % 10);
    return n;
}

static int put_hex(char *buf, unsigned v) {
    static const char digits[] = "0123456789abcdef";
    int n = 0;
    for (int shift = 12; shift > 0; shift -= 4)
        if (v >> shift) buf[n++] = digits[(v >> shift) & 15];
    buf[n++] = digits[v & 15];
    return n;
}

static int format_v4(char *buf, uint32_t v) {
    int n = put_decimal(buf, v >> 24);
    buf[n++] = '.';
    n += put_decimal(buf + n, (v >> 16) & 255);
    buf[n++] = '.';
    n += put_decimal(buf + n, (v >> 8) & 255);
    buf[n++] = '.';
    return n + put_decimal(buf + n, v & 255);
}

/* RFC 5952 text of an IPv6 value; colon is ":" or a 3-byte "%3A" spelling. */
static int format_v6(char *buf, u128 value, const unsigned char *colon, int clen, int full) {
    int n = 0;
    unsigned groups[8];
    for (int i = 0; i < 8; i++) groups[i] = (unsigned)(value >> (112 - 16 * i)) & 0xFFFF;
    if (!full && (value >> 32) == 0xFFFF) {
        memcpy(buf + n, colon, clen); n += clen;
        memcpy(buf + n, colon, clen); n += clen;
        memcpy(buf + n, "ffff", 4); n += 4;
        memcpy(buf + n, colon, clen); n += clen;
        return n + format_v4(buf + n, (uint32_t)value);
    }
    int best = -1, best_len = 1;
    if (!full) {
        int i = 0;
        while (i < 8) {
            if (groups[i] == 0) {
                int e = i;
                while (e < 8 && groups[e] == 0) e++;
                if (e - i > best_len) { best = i; best_len = e - i; }
                i = e;
            } else {
                i++;
            }
        }
    }
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            memcpy(buf + n, colon, clen); n += clen;
            memcpy(buf + n, colon, clen); n += clen;
            i += best_len - 1;
            continue;
        }
        if (i > 0 && i != best + best_len) { memcpy(buf + n, colon, clen); n += clen; }
        n += put_hex(buf + n, groups[i]);
    }
    return n;
}

/* Value of the address written as fields (spans); the last is the quad when quad >= 0. */
static int parse_groups(const unsigned char *d, const Py_ssize_t (*f)[2], int count, int64_t quad,
                        u128 *out) {
    if (count < 3 || count > MAX_FIELDS) return 0;
    int empties[MAX_FIELDS], ne = 0;
    for (int i = 0; i < count; i++)
        if (f[i][0] == f[i][1]) empties[ne++] = i;
    int groups = count - ne + (quad >= 0 ? 1 : 0);
    int gap;
    if (ne == 0) {
        if (groups != 8) return 0;
        gap = -1;
    } else if (ne == 3 && count == 3) {
        gap = 0;
    } else if (ne == 2 && empties[0] == 0 && empties[1] == 1) {
        gap = 0;
    } else if (ne == 2 && empties[0] == count - 2 && empties[1] == count - 1 && quad < 0) {
        gap = count - 2;
    } else if (ne == 1 && empties[0] > 0 && empties[0] < count - 1) {
        gap = empties[0];
    } else {
        return 0;
    }
    if (gap >= 0 && groups > 7) return 0;
    u128 v = 0;
    for (int i = 0; i < count; i++) {
        if (quad >= 0 && i == count - 1) {
            v = (v << 32) | (uint32_t)quad;
        } else if (f[i][0] != f[i][1]) {
            unsigned g = 0;
            for (Py_ssize_t j = f[i][0]; j < f[i][1]; j++) {
                unsigned c = d[j];
                g = g * 16 + (c <= '9' ? c - '0' : (c | 32) - 'a' + 10);
            }
            v = (v << 16) | g;
        } else if (i == gap) {
            v <<= 16 * (8 - groups);
        }
    }
    *out = v;
    return 1;
}

static int version_before(const Ctx *ctx, Py_ssize_t run_start) {
    const unsigned char *d = ctx->data;
    if (ctx->versions && run_start > 0 && d[run_start - 1] == '/') {
        Py_ssize_t q = run_start - 2;
        if (q >= 0 && d[q] == '\\') q--;
        if (q >= 0 && (cls[d[q]] & C_WORD)) return 1;
    }
    Py_ssize_t q = run_start;
    int gap = 0, key_sign = 0;
    while (q > 0 && gap < 4 && (cls[d[q - 1]] & C_KEYGAP)) {
        if (d[q - 1] == '=' || d[q - 1] == ':') key_sign = 1;
        q--;
        gap++;
    }
    return key_sign && ends_with_version(d, q);
}

static int ipv4_at(Ctx *ctx, const Word *w, Py_ssize_t k, Py_ssize_t count, int at_run_start,
                   int at_run_end, Py_ssize_t run_start, Py_ssize_t run_end) {
    const unsigned char *d = ctx->data;
    if (k + 3 >= count) return 0;
    if (k > 0 && w[k - 1].sep != SEP_COLON) return 0;
    for (int n = 0; n < 3; n++)
        if (w[k + n].sep != SEP_DOT) return 0;
    int o[4];
    for (int n = 0; n < 4; n++) {
        o[n] = octet(d, w[k + n].start, w[k + n].end);
        if (o[n] < 0) return 0;
    }
    Py_ssize_t last = k + 3;
    int kind = w[last].sep;
    if (kind == SEP_DOT) {
        if (w[last + 1].start != w[last + 1].end) return 0;
    } else if (kind == SEP_END && at_run_end) {
        if (run_end + 1 < ctx->len && d[run_end] == '-' && (cls[d[run_end + 1]] & C_LETTER))
            return 0;
    }
    if (k == 0 && at_run_start && version_before(ctx, run_start)) return 0;
    if (k > 0 && ends_with_version(d, w[k - 1].end)) return 0;
    uint32_t value = ((uint32_t)o[0] << 24) | ((uint32_t)o[1] << 16) | ((uint32_t)o[2] << 8) | o[3];
    uint32_t masked = value & ctx->v4_mask;
    if (masked != value) {
        char buf[16];
        int n = format_v4(buf, masked);
        emit(ctx, w[k].start, w[last].end, buf, n);
    }
    return 1;
}

/* Returns the index of the first word after the address, or 0. */
static Py_ssize_t ipv6(Ctx *ctx, const Word *w, Py_ssize_t k, Py_ssize_t m, int64_t quad) {
    const unsigned char *d = ctx->data;
    Py_ssize_t last = quad >= 0 ? m + 3 : m;
    if (m - k + 1 > MAX_FIELDS) return 0;
    Py_ssize_t fields[MAX_FIELDS][2];
    int nf = (int)(m - k + 1);
    for (int i = 0; i < nf; i++) {
        fields[i][0] = w[k + i].start;
        fields[i][1] = w[k + i].end;
    }
    if (quad >= 0) fields[nf - 1][1] = w[m + 3].end;
    int first = 0, endf = nf;
    if (quad < 0 && endf >= 2 && fields[endf - 1][0] == fields[endf - 1][1] &&
        fields[endf - 2][0] != fields[endf - 2][1])
        endf--;
    if (endf - first >= 2 && fields[0][0] == fields[0][1] && fields[1][0] != fields[1][1])
        first = 1;
    int cn = endf - first;
    const Py_ssize_t (*chosen)[2] = (const Py_ssize_t (*)[2])fields + first;
    if (quad < 0 && cn == 8) {
        int eui = 1;
        for (int i = 0; i < 8; i++)
            if (chosen[i][1] - chosen[i][0] != 2) { eui = 0; break; }
        if (eui) return 0;
    }
    u128 value;
    int ok = parse_groups(d, chosen, cn, quad, &value);
    if (!ok && cn >= 3 && quad < 0 && chosen[cn - 1][0] != chosen[cn - 1][1]) {
        ok = parse_groups(d, chosen, cn - 1, quad, &value);
        if (ok) cn--;
    }
    if (!ok && cn >= 3 && chosen[0][0] != chosen[0][1]) {
        ok = parse_groups(d, chosen + 1, cn - 1, quad, &value);
        if (ok) { chosen++; cn--; }
    }
    if (!ok) return 0;
    u128 masked;
    if ((value >> 32) == 0xFFFF)
        masked = ((u128)0xFFFF << 32) | ((uint32_t)value & ctx->v4_mask);
    else
        masked = value & ctx->v6_mask;
    Py_ssize_t start = chosen[0][0], end = chosen[cn - 1][1];
    if (masked != value) {
        const unsigned char *colon = (const unsigned char *)":";
        int clen = 1;
        for (Py_ssize_t n = k; n < m; n++) {
            Py_ssize_t ss = w[n].end, se = w[n].sep_end;
            if (start <= ss && se <= end && se - ss == 3) { colon = d + ss; clen = 3; break; }
        }
        char buf[160];
        int n = format_v6(buf, masked, colon, clen, 0);
        if (n >= 2 * clen && memcmp(buf + n - clen, colon, clen) == 0 &&
            memcmp(buf + n - 2 * clen, colon, clen) == 0 && colon_at(ctx, end))
            n = format_v6(buf, masked, colon, clen, 1);
        emit(ctx, start, end, buf, n);
    }
    return last + 1;
}

static void segment(Ctx *ctx, const Word *w, Py_ssize_t count, int at_run_start, int at_run_end,
                    Py_ssize_t run_start, Py_ssize_t run_end) {
    const unsigned char *d = ctx->data;
    Py_ssize_t k = 0;
    while (k < count) {
        if (w[k].sep == SEP_COLON && is_hexy(d, w[k].start, w[k].end)) {
            Py_ssize_t m = k;
            while (m + 1 < count && w[m].sep == SEP_COLON && is_hexy(d, w[m + 1].start, w[m + 1].end))
                m++;
            int64_t quad = -1;
            if (w[m].sep == SEP_DOT && m + 3 < count && w[m + 1].sep == SEP_DOT &&
                w[m + 2].sep == SEP_DOT) {
                int o[4], okq = 1;
                for (int n = 0; n < 4; n++) {
                    o[n] = octet(d, w[m + n].start, w[m + n].end);
                    if (o[n] < 0) okq = 0;
                }
                if (okq)
                    quad = ((int64_t)o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3];
            }
            if (m > k || quad >= 0) {
                Py_ssize_t used = ipv6(ctx, w, k, m, quad);
                if (used) { k = used; continue; }
                if (quad >= 0 &&
                    ipv4_at(ctx, w, m, count, at_run_start, at_run_end, run_start, run_end)) {
                    k = m + 4;
                    continue;
                }
            }
            k = m + 1;
            continue;
        }
        if (ipv4_at(ctx, w, k, count, at_run_start, at_run_end, run_start, run_end)) {
            k += 4;
            continue;
        }
        k++;
    }
}

static int push_word(Ctx *ctx, Py_ssize_t *count, Py_ssize_t s, Py_ssize_t e, int sep,
                     Py_ssize_t sep_end) {
    if (*count >= ctx->words_cap) {
        Py_ssize_t cap = ctx->words_cap ? ctx->words_cap * 2 : 64;
        Word *grown = realloc(ctx->words, cap * sizeof(Word));
        if (!grown) { ctx->failed = 1; return -1; }
        ctx->words = grown;
        ctx->words_cap = cap;
    }
    Word *w = &ctx->words[(*count)++];
    w->start = s; w->end = e; w->sep = sep; w->sep_end = sep_end;
    return 0;
}

static void run(Ctx *ctx, Py_ssize_t start, Py_ssize_t end) {
    const unsigned char *d = ctx->data;
    Py_ssize_t pos = start;
    if (start > 0 && d[start - 1] == '\\') {
        unsigned char first = d[pos];
        if ((first | 32) == 'x' && end - pos >= 3 && (cls[d[pos + 1]] & C_HEX) &&
            (cls[d[pos + 2]] & C_HEX))
            pos += 3;
        else if ((first | 32) == 'u' && end - pos >= 5 && (cls[d[pos + 1]] & C_HEX) &&
                 (cls[d[pos + 2]] & C_HEX) && (cls[d[pos + 3]] & C_HEX) && (cls[d[pos + 4]] & C_HEX))
            pos += 5;
        else
            pos += 1;
    }
    Py_ssize_t seg = pos, count = 0;
    for (;;) {
        Py_ssize_t word = pos;
        while (pos < end && (cls[d[pos]] & C_WORD)) pos++;
        if (pos < end && d[pos] == '.') {
            if (push_word(ctx, &count, word, pos, SEP_DOT, pos + 1)) return;
            pos++;
            continue;
        }
        if (pos < end && d[pos] == ':') {
            if (push_word(ctx, &count, word, pos, SEP_COLON, pos + 1)) return;
            pos++;
            continue;
        }
        if (pos + 2 < end && d[pos] == '%' && d[pos + 1] == '3' && (d[pos + 2] | 32) == 'a') {
            if (push_word(ctx, &count, word, pos, SEP_COLON, pos + 3)) return;
            pos += 3;
            continue;
        }
        if (push_word(ctx, &count, word, pos, SEP_END, pos)) return;
        segment(ctx, ctx->words, count, seg == start, pos == end, start, end);
        if (ctx->failed || pos >= end) return;
        if (pos + 2 < end && (cls[d[pos + 1]] & C_HEX) && (cls[d[pos + 2]] & C_HEX))
            pos += 3;
        else
            pos += 1;
        count = 0;
        seg = pos;
    }
}

static PyObject *core_mask(PyObject *self, PyObject *args) {
    Py_buffer buf;
    int v4, v6, versions = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*ii|p", &buf, &v4, &v6, &versions)) return NULL;
    if (v4 < 0 || v4 > 32 || v6 < 0 || v6 > 128) {
        PyBuffer_Release(&buf);
        PyErr_SetString(PyExc_ValueError, "prefix out of range");
        return NULL;
    }
    Ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.data = buf.buf;
    ctx.len = buf.len;
    ctx.v4_mask = v4 ? (uint32_t)(0xFFFFFFFFu << (32 - v4)) : 0;
    ctx.v6_mask = v6 ? ~(u128)0 << (128 - v6) : 0;
    ctx.versions = versions;
    const unsigned char *d = ctx.data;
    Py_ssize_t i = 0, n = ctx.len;
    Py_BEGIN_ALLOW_THREADS
    while (i < n && !ctx.failed) {
        if (!(cls[d[i]] & C_RUN)) { i++; continue; }
        Py_ssize_t j = i;
        int colons = 0, dots = 0, other = 0;
        unsigned char prev = 0;
        while (j < n && (cls[d[j]] & C_RUN)) {
            unsigned char c = d[j++];
            if (!(cls[c] & C_WORD)) {
                if (c == '.') dots++;
                else if (c == '%' || prev == ':') other = 1; /* an escape, or "::" */
                else colons++;
            }
            prev = c;
        }
        /* An address needs 3 dots (IPv4, or IPv6 ending in a dotted quad), "::", 7 colons
         * (8 groups) or a "%3A": other runs are skipped (the reference skips the same). */
        if (j - i >= 3 && (other || colons >= 7 || dots >= 3)) run(&ctx, i, j);
        i = j;
    }
    Py_END_ALLOW_THREADS
    PyObject *result = NULL;
    if (ctx.failed) {
        PyErr_NoMemory();
    } else if (ctx.count == 0) {
        PyObject *data = PyTuple_GET_ITEM(args, 0);
        if (PyBytes_CheckExact(data)) {
            Py_INCREF(data);
            result = Py_BuildValue("(Nn)", data, (Py_ssize_t)0);
        } else {
            result = Py_BuildValue("(y#n)", (const char *)d, n, (Py_ssize_t)0);
        }
    } else {
        PyObject *out = PyBytes_FromStringAndSize(NULL, ctx.out_len + (n - ctx.copied));
        if (out) {
            char *o = PyBytes_AS_STRING(out);
            memcpy(o, ctx.out, ctx.out_len);
            memcpy(o + ctx.out_len, d + ctx.copied, n - ctx.copied);
            result = Py_BuildValue("(Nn)", out, ctx.count);
        }
    }
    free(ctx.out);
    free(ctx.words);
    PyBuffer_Release(&buf);
    return result;
}

/* replace_agents(block: bytes, agents: dict) -> bytes | list | None
 *
 * Compiled twin of the combined/main fast path in logrotate/lines.py
 * (LogMasker._reduce_quoted_columns_py; keep the two in step, tests/logrotate compare them).
 * ``block`` qualifies when it ends with a newline, holds no \" escape, every line has the same
 * even number (>= 6) of quotes, the parts between quotes 2 and 3 hold only digits, '-' and
 * single spaces (3 spaces a line in total) and those between quotes 4 and 5 are spaces (one a
 * line in total); otherwise None. The user agent (between quotes 5 and 6) of every line is
 * replaced by agents[agent]; when some are not in the dict, the list of those (in order,
 * repeats possible) is returned instead, for the caller to reduce, add and call again. */
typedef struct {
    Py_ssize_t start, len;
    PyObject *replacement; /* borrowed from the dict */
} Agent;

static PyObject *core_replace_agents(PyObject *self, PyObject *args) {
    Py_buffer buf;
    PyObject *cache;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*O!", &buf, &PyDict_Type, &cache)) return NULL;
    const char *d = buf.buf;
    Py_ssize_t n = buf.len;
    PyObject *result = NULL;
    Agent *agents = NULL;
    Py_ssize_t lines = 0, count = 0, spaces2 = 0, spaces4 = 0;
    int quotes = -1, ok = n > 0 && d[n - 1] == '\n';
    for (const char *b = d; ok && (b = memchr(b, '\\', (size_t)(n - (b - d)))) != NULL; b++)
        if (b + 1 < d + n && b[1] == '"') ok = 0;
    if (ok) {
        for (const char *b = d; (b = memchr(b, '\n', (size_t)(n - (b - d)))) != NULL; b++)
            lines++;
        agents = malloc(sizeof(Agent) * (size_t)lines);
        if (!agents) {
            PyBuffer_Release(&buf);
            return PyErr_NoMemory();
        }
    }
    Py_ssize_t pos = 0;
    while (ok && pos < n) {
        const char *nl = memchr(d + pos, '\n', (size_t)(n - pos));
        Py_ssize_t end = nl - d; /* the block ends with '\n': never NULL */
        Py_ssize_t q[6];
        int seen = 0;
        for (const char *b = d + pos; (b = memchr(b, '"', (size_t)(end - (b - d)))) != NULL;
             b++) {
            if (seen < 6) q[seen] = b - d;
            seen++;
        }
        if (quotes < 0) quotes = seen;
        if (seen != quotes || seen < 6 || seen % 2) { ok = 0; break; }
        for (Py_ssize_t i = q[1] + 1; i < q[2]; i++) {
            char c = d[i];
            if (c == ' ') {
                spaces2++;
                if (d[i + 1] == ' ') { ok = 0; break; }
            } else if (!((c >= '0' && c <= '9') || c == '-')) { ok = 0; break; }
        }
        for (Py_ssize_t i = q[3] + 1; ok && i < q[4]; i++) {
            if (d[i] != ' ') ok = 0;
            spaces4++;
        }
        agents[count].start = q[4] + 1;
        agents[count].len = q[5] - q[4] - 1;
        count++;
        pos = end + 1;
    }
    if (!ok || spaces2 != 3 * lines || spaces4 != lines) {
        free(agents);
        PyBuffer_Release(&buf);
        Py_RETURN_NONE;
    }
    PyObject *missing = NULL;
    Py_ssize_t size = n;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *key = PyBytes_FromStringAndSize(d + agents[k].start, agents[k].len);
        if (!key) goto done;
        PyObject *value = PyDict_GetItemWithError(cache, key);
        if (value && PyBytes_Check(value)) {
            agents[k].replacement = value;
            size += PyBytes_GET_SIZE(value) - agents[k].len;
            Py_DECREF(key);
            continue;
        }
        if (PyErr_Occurred()) { Py_DECREF(key); goto done; }
        if (!missing && !(missing = PyList_New(0))) { Py_DECREF(key); goto done; }
        int failed = PyList_Append(missing, key);
        Py_DECREF(key);
        if (failed) goto done;
    }
    if (missing) {
        result = missing;
        missing = NULL;
        goto done;
    }
    result = PyBytes_FromStringAndSize(NULL, size);
    if (result) {
        char *o = PyBytes_AS_STRING(result);
        Py_ssize_t copied = 0;
        for (Py_ssize_t k = 0; k < count; k++) {
            memcpy(o, d + copied, (size_t)(agents[k].start - copied));
            o += agents[k].start - copied;
            Py_ssize_t r = PyBytes_GET_SIZE(agents[k].replacement);
            memcpy(o, PyBytes_AS_STRING(agents[k].replacement), (size_t)r);
            o += r;
            copied = agents[k].start + agents[k].len;
        }
        memcpy(o, d + copied, (size_t)(n - copied));
    }
done:
    Py_XDECREF(missing);
    free(agents);
    PyBuffer_Release(&buf);
    return result;
}

static PyMethodDef methods[] = {
    {"mask", core_mask, METH_VARARGS,
     "mask(data, ipv4_prefix, ipv6_prefix, versions=False) -> (masked bytes, addresses changed)"},
    {"replace_agents", core_replace_agents, METH_VARARGS,
     "replace_agents(block, agents) -> block with user agents replaced | missing agents | None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "privacy._core",
                                    "Compiled masking core (see privacy/_pycore.py).", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__core(void) {
    init_tables();
    return PyModule_Create(&module);
}
