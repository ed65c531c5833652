/* File hashing, libmagic and content classification. See files.h. */
#define _GNU_SOURCE /* memmem */
#include "sensor/files.h"

#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libmagic is by far the dearest step of a file (a hundred regex and
 * offset tests); the same leading bytes (the same page, script or
 * installer fetched again) get the same answer, so answers are kept by a
 * digest of exactly the bytes libmagic saw. The sender chooses those
 * bytes: the key must be collision resistant, or a file crafted to
 * collide with one seen before is reported with the other's type (an ELF
 * logged as "PNG image data"). SHA-256 of 4 KiB costs a few microseconds,
 * libmagic hundreds. */
#define MAGIC_CACHE_SLOTS 1024
#define MAGIC_KEY_LEN 32

typedef struct magic_entry {
    uint8_t key[MAGIC_KEY_LEN];
    uint32_t len; /* 0 = empty slot */
    char text[SW_FILE_MAGIC_MAX];
} magic_entry;

struct sw_files_thread {
    magic_t magic;
    EVP_MD_CTX *kctx; /* reused for every key: nothing allocated per file */
    magic_entry cache[MAGIC_CACHE_SLOTS];
};

static bool head_key(sw_files_thread *t, const uint8_t *p, size_t n, uint8_t key[MAGIC_KEY_LEN])
{
    unsigned int kl = 0;
    return EVP_DigestInit_ex(t->kctx, EVP_sha256(), NULL) == 1 &&
           EVP_DigestUpdate(t->kctx, p, n) == 1 && EVP_DigestFinal_ex(t->kctx, key, &kl) == 1 &&
           kl == MAGIC_KEY_LEN;
}

sw_files_thread *sw_files_thread_new(char *err, size_t errlen)
{
    sw_files_thread *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "files: out of memory");
        return NULL;
    }
    t->kctx = EVP_MD_CTX_new();
    if (!t->kctx) {
        snprintf(err, errlen, "files: out of memory");
        free(t);
        return NULL;
    }
    /* No decompression: only the first bytes are seen anyway. */
    t->magic = magic_open(MAGIC_NONE | MAGIC_NO_CHECK_COMPRESS);
    if (!t->magic) {
        snprintf(err, errlen, "files: magic_open failed");
        EVP_MD_CTX_free(t->kctx);
        free(t);
        return NULL;
    }
    if (magic_load(t->magic, NULL) != 0) {
        snprintf(err, errlen, "files: cannot load the libmagic database: %s",
                 magic_error(t->magic) ? magic_error(t->magic) : "unknown");
        magic_close(t->magic);
        EVP_MD_CTX_free(t->kctx);
        free(t);
        return NULL;
    }
    return t;
}

void sw_files_thread_free(sw_files_thread *t)
{
    if (!t)
        return;
    magic_close(t->magic);
    EVP_MD_CTX_free(t->kctx);
    free(t);
}

int sw_file_init(sw_file *f)
{
    memset(f, 0, sizeof(*f));
    f->md5 = EVP_MD_CTX_new();
    f->sha1 = EVP_MD_CTX_new();
    f->sha256 = EVP_MD_CTX_new();
    if (!f->md5 || !f->sha1 || !f->sha256) {
        sw_file_cleanup(f);
        return -1;
    }
    return 0;
}

void sw_file_cleanup(sw_file *f)
{
    EVP_MD_CTX_free(f->md5);
    EVP_MD_CTX_free(f->sha1);
    EVP_MD_CTX_free(f->sha256);
    f->md5 = f->sha1 = f->sha256 = NULL;
}

static inline char lc(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

void sw_file_open(sw_file *f, const uint8_t *name, size_t name_len,
                  const uint8_t *ctype, size_t ctype_len, uint64_t tx_id)
{
    EVP_MD_CTX *m5 = f->md5, *s1 = f->sha1, *s256 = f->sha256;
    /* Reset everything but the contexts; head/tail need no clearing. */
    f->state = SW_FILE_OPEN;
    f->gaps = false;
    f->size = 0;
    f->tx_id = tx_id;
    f->head_len = f->tail_len = 0;
    f->flags = 0;
    f->kind = SW_FILE_KIND_OTHER;
    f->type_mismatch = false;
    f->magic[0] = '\0';
    memset(f->md5_digest, 0, sizeof(f->md5_digest));
    memset(f->sha1_digest, 0, sizeof(f->sha1_digest));
    memset(f->sha256_digest, 0, sizeof(f->sha256_digest));
    f->filename_len = 0;
    if (name) {
        size_t n = name_len < SW_FILE_NAME_MAX - 1 ? name_len : SW_FILE_NAME_MAX - 1;
        memcpy(f->filename, name, n);
        f->filename_len = n;
    }
    f->filename[f->filename_len] = '\0';
    size_t cn = 0;
    if (ctype) {
        for (size_t i = 0; i < ctype_len && cn < SW_FILE_CTYPE_MAX - 1; i++) {
            char c = (char)ctype[i];
            if (c == ';')
                break;
            if (c == ' ' || c == '\t')
                continue;
            f->declared_type[cn++] = lc(c);
        }
    }
    f->declared_type[cn] = '\0';
    bool ok = m5 && s1 && s256 && EVP_DigestInit_ex(m5, EVP_md5(), NULL) == 1 &&
              EVP_DigestInit_ex(s1, EVP_sha1(), NULL) == 1 &&
              EVP_DigestInit_ex(s256, EVP_sha256(), NULL) == 1;
    if (!ok)
        f->state = SW_FILE_NONE; /* hashing unavailable: nothing to report */
}

void sw_file_open_http(sw_file *f, const sw_http_tx *tx)
{
    const uint8_t *name = NULL;
    size_t n = 0;
    if (tx->filename.p && tx->filename.len) {
        name = tx->filename.p;
        n = tx->filename.len;
    } else if (tx->uri.p && tx->uri.len) {
        name = tx->uri.p;
        const uint8_t *q = memchr(name, '?', tx->uri.len);
        n = q ? (size_t)(q - name) : tx->uri.len;
    }
    sw_file_open(f, name, n, tx->content_type.p, tx->content_type.len, tx->tx_id);
}

/* Patterns searched through the whole content of zip and OLE files, where
 * the evidence sits far from the first bytes. */
static const uint8_t pat_vba_zip[] = "vbaProject.bin";
static const uint8_t pat_ooxml[] = "[Content_Types].xml";
static const uint8_t pat_vba_ole[] = {'_', 0, 'V', 0, 'B', 0, 'A', 0, '_', 0, 'P', 0,
                                      'R', 0, 'O', 0, 'J', 0, 'E', 0, 'C', 0, 'T', 0};
/* MSI root storage CLSID {000C1084-0000-0000-C000-000000000046} on disk */
static const uint8_t pat_msi[] = {0x84, 0x10, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};

static const struct {
    const uint8_t *p;
    size_t n;
    uint32_t flag;
    bool zip; /* zip pattern, else OLE */
} patterns[] = {
    {pat_vba_zip, sizeof(pat_vba_zip) - 1, SW_FILE_F_VBA, true},
    {pat_ooxml, sizeof(pat_ooxml) - 1, SW_FILE_F_OOXML, true},
    {pat_vba_ole, sizeof(pat_vba_ole), SW_FILE_F_VBA, false},
    {pat_msi, sizeof(pat_msi), SW_FILE_F_MSI_CLSID, false},
};

static const uint8_t ole_magic[8] = {0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1};

static bool is_zip(const sw_file *f)
{
    return f->head_len >= 4 && memcmp(f->head, "PK\x03\x04", 4) == 0;
}

static bool is_ole(const sw_file *f)
{
    return f->head_len >= 8 && memcmp(f->head, ole_magic, 8) == 0;
}

static void scan_patterns(sw_file *f, const uint8_t *d, size_t n, bool zip)
{
    uint8_t edge[2 * SW_FILE_TAIL];
    size_t take = n < SW_FILE_TAIL - 1 ? n : SW_FILE_TAIL - 1;
    memcpy(edge, f->tail, f->tail_len);
    memcpy(edge + f->tail_len, d, take);
    size_t edge_len = f->tail_len + take;
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        if (patterns[i].zip != zip || (f->flags & patterns[i].flag))
            continue;
        if (memmem(edge, edge_len, patterns[i].p, patterns[i].n) ||
            memmem(d, n, patterns[i].p, patterns[i].n))
            f->flags |= patterns[i].flag;
    }
    /* keep the last TAIL-1 bytes of everything seen so far */
    if (n >= SW_FILE_TAIL - 1) {
        memcpy(f->tail, d + n - (SW_FILE_TAIL - 1), SW_FILE_TAIL - 1);
        f->tail_len = SW_FILE_TAIL - 1;
    } else {
        size_t keep = edge_len < SW_FILE_TAIL - 1 ? edge_len : SW_FILE_TAIL - 1;
        memmove(f->tail, edge + edge_len - keep, keep);
        f->tail_len = keep;
    }
}

void sw_file_update(sw_file *f, const uint8_t *data, size_t len)
{
    if (f->state != SW_FILE_OPEN || !data || len == 0)
        return;
    EVP_DigestUpdate(f->md5, data, len);
    EVP_DigestUpdate(f->sha1, data, len);
    EVP_DigestUpdate(f->sha256, data, len);
    /* Bytes after a gap are not the file's start: only contiguous head. */
    if (f->head_len < SW_FILE_HEAD && !f->gaps) {
        size_t k = SW_FILE_HEAD - f->head_len;
        if (k > len)
            k = len;
        memcpy(f->head + f->head_len, data, k);
        f->head_len += k;
    }
    f->size += len;
    bool zip = is_zip(f), ole = is_ole(f);
    if (zip || ole)
        scan_patterns(f, data, len, zip);
}

void sw_file_gap(sw_file *f, uint64_t len)
{
    if (f->state != SW_FILE_OPEN || len == 0)
        return;
    f->gaps = true;
    f->size += len; /* as Suricata: size is the extent, lost bytes included */
    f->tail_len = 0; /* patterns must not span lost bytes */
}

static bool ends_with_ci(const char *s, size_t n, const char *suf)
{
    size_t m = strlen(suf);
    if (n < m)
        return false;
    for (size_t i = 0; i < m; i++)
        if (lc(s[n - m + i]) != suf[i])
            return false;
    return true;
}

static bool name_has_ext(const sw_file *f, const char *const *exts)
{
    for (size_t i = 0; exts[i]; i++)
        if (ends_with_ci(f->filename, f->filename_len, exts[i]))
            return true;
    return false;
}

static bool head_contains_ci(const sw_file *f, const char *needle)
{
    size_t m = strlen(needle);
    if (f->head_len < m)
        return false;
    for (size_t i = 0; i + m <= f->head_len; i++) {
        size_t j = 0;
        while (j < m && lc((char)f->head[i + j]) == needle[j])
            j++;
        if (j == m)
            return true;
    }
    return false;
}

static const char *const script_exts[] = {".ps1", ".psm1", ".vbs", ".vbe", ".hta", ".wsf",
                                          ".wsh", ".bat", ".cmd", ".jse", ".js", ".sh",
                                          NULL};
/* script names that are run, not rendered: .js is everywhere on the web */
static const char *const script_exec_exts[] = {".ps1", ".psm1", ".vbs", ".vbe", ".hta",
                                               ".wsf", ".wsh", ".bat", ".cmd", ".jse",
                                               NULL};
static const char *const exec_exts[] = {".exe", ".dll", ".scr", ".cpl", ".sys", ".msi",
                                        ".com", ".pif", ".elf", ".so", ".bin", NULL};
static const char *const benign_exts[] = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico",
                                          ".txt", ".html", ".htm", ".css", ".pdf", ".mp3",
                                          ".mp4", ".json", ".xml", ".svg", ".webp", NULL};

static void classify(sw_file *f)
{
    const uint8_t *h = f->head;
    size_t n = f->head_len;
    sw_file_kind k = SW_FILE_KIND_OTHER;

    if (name_has_ext(f, script_exts))
        f->flags |= SW_FILE_F_SCRIPT_NAME;
    if (name_has_ext(f, exec_exts))
        f->flags |= SW_FILE_F_EXEC_NAME;

    if (n >= 64 && h[0] == 'M' && h[1] == 'Z') {
        uint32_t off = (uint32_t)h[0x3c] | (uint32_t)h[0x3d] << 8 |
                       (uint32_t)h[0x3e] << 16 | (uint32_t)h[0x3f] << 24;
        if (off <= n - 4 && memcmp(h + off, "PE\0\0", 4) == 0)
            k = SW_FILE_KIND_PE;
    }
    if (k == SW_FILE_KIND_OTHER && n >= 4) {
        static const uint8_t macho[][4] = {{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf},
                                           {0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe}};
        if (memcmp(h, "\x7f" "ELF", 4) == 0)
            k = SW_FILE_KIND_ELF;
        for (size_t i = 0; i < 4 && k == SW_FILE_KIND_OTHER; i++)
            if (memcmp(h, macho[i], 4) == 0)
                k = SW_FILE_KIND_MACHO;
    }
    if (k == SW_FILE_KIND_OTHER && is_ole(f)) {
        if ((f->flags & SW_FILE_F_MSI_CLSID) || ends_with_ci(f->filename, f->filename_len, ".msi"))
            k = SW_FILE_KIND_MSI;
        else if (f->flags & SW_FILE_F_VBA)
            k = SW_FILE_KIND_OFFICE_MACRO;
        else
            k = SW_FILE_KIND_OFFICE;
    }
    if (k == SW_FILE_KIND_OTHER && is_zip(f)) {
        if (f->flags & SW_FILE_F_VBA)
            k = SW_FILE_KIND_OFFICE_MACRO;
        else if (f->flags & SW_FILE_F_OOXML)
            k = SW_FILE_KIND_OFFICE;
        else
            k = SW_FILE_KIND_ARCHIVE;
    }
    if (k == SW_FILE_KIND_OTHER && n >= 4) {
        if ((n >= 6 && memcmp(h, "7z\xbc\xaf\x27\x1c", 6) == 0) ||
            (n >= 6 && memcmp(h, "Rar!\x1a\x07", 6) == 0) ||
            memcmp(h, "MSCF", 4) == 0 || (h[0] == 0x1f && h[1] == 0x8b) ||
            (n >= 6 && memcmp(h, "\xfd" "7zXZ\0", 6) == 0) || memcmp(h, "BZh", 3) == 0)
            k = SW_FILE_KIND_ARCHIVE;
        else if (n >= 5 && memcmp(h, "%PDF-", 5) == 0)
            k = SW_FILE_KIND_PDF;
    }
    if (k == SW_FILE_KIND_OTHER) {
        if (head_contains_ci(f, "<hta:application") || head_contains_ci(f, "wscript.shell") ||
            head_contains_ci(f, "powershell") || (n >= 2 && h[0] == '#' && h[1] == '!'))
            f->flags |= SW_FILE_F_SCRIPT_CONTENT;
        if (f->flags & (SW_FILE_F_SCRIPT_CONTENT | SW_FILE_F_SCRIPT_NAME))
            k = SW_FILE_KIND_SCRIPT;
    }
    f->kind = k;

    /* Mismatch: executable content behind a type or name that says
     * otherwise, or an image type whose signature is wrong. */
    static const char *const exec_types[] = {
        "application/octet-stream", "application/x-msdownload", "application/x-dosexec",
        "application/x-msdos-program", "application/x-executable", "application/x-elf",
        "application/x-sharedlib", "application/vnd.microsoft.portable-executable",
        "application/x-msi", "application/x-ole-storage", "application/x-mach-binary",
        "binary/octet-stream", "application/download", "application/force-download",
        "application/x-download", "application/binary", "application/exe",
        "application/x-exe", "application/x-msinstaller", NULL};
    bool exec = k == SW_FILE_KIND_PE || k == SW_FILE_KIND_ELF || k == SW_FILE_KIND_MACHO ||
                k == SW_FILE_KIND_MSI;
    const char *dt = f->declared_type;
    bool mismatch = false;
    if (exec && dt[0]) {
        mismatch = true;
        for (size_t i = 0; exec_types[i]; i++)
            if (strcmp(dt, exec_types[i]) == 0)
                mismatch = false;
    }
    if (exec && name_has_ext(f, benign_exts))
        mismatch = true;
    if (n >= 8 && !f->gaps) {
        if (strcmp(dt, "image/png") == 0 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) != 0)
            mismatch = true;
        else if ((strcmp(dt, "image/jpeg") == 0 || strcmp(dt, "image/jpg") == 0) &&
                 memcmp(h, "\xff\xd8\xff", 3) != 0)
            mismatch = true;
        else if (strcmp(dt, "image/gif") == 0 && memcmp(h, "GIF8", 4) != 0)
            mismatch = true;
    }
    f->type_mismatch = mismatch;
}

void sw_file_close(sw_file *f, sw_files_thread *t, bool truncated)
{
    if (f->state != SW_FILE_OPEN)
        return;
    unsigned int len = 0;
    EVP_DigestFinal_ex(f->md5, f->md5_digest, &len);
    EVP_DigestFinal_ex(f->sha1, f->sha1_digest, &len);
    EVP_DigestFinal_ex(f->sha256, f->sha256_digest, &len);
    f->state = (truncated || f->gaps) ? SW_FILE_TRUNCATED : SW_FILE_CLOSED;
    f->magic[0] = '\0';
    if (t && f->head_len > 0) {
        uint8_t key[MAGIC_KEY_LEN];
        bool keyed = head_key(t, f->head, f->head_len, key);
        magic_entry *e = keyed ? &t->cache[(key[0] | (unsigned)key[1] << 8) % MAGIC_CACHE_SLOTS]
                               : NULL;
        if (e && e->len == f->head_len && memcmp(e->key, key, sizeof key) == 0) {
            memcpy(f->magic, e->text, sizeof f->magic);
        } else {
            const char *m = magic_buffer(t->magic, f->head, f->head_len);
            if (m)
                snprintf(f->magic, sizeof(f->magic), "%s", m);
            if (e) {
                memcpy(e->key, key, sizeof key);
                e->len = (uint32_t)f->head_len;
                memcpy(e->text, f->magic, sizeof e->text);
            }
        }
    }
    classify(f);
}

bool sw_file_is_executable_download(const sw_file *f)
{
    switch (f->kind) {
    case SW_FILE_KIND_PE:
    case SW_FILE_KIND_ELF:
    case SW_FILE_KIND_MACHO:
    case SW_FILE_KIND_MSI:
        return true;
    case SW_FILE_KIND_SCRIPT:
        /* by name only when the name is one that Windows runs on a click;
         * by content only for markers of a script host, not a mention of
         * "powershell" in a text */
        return name_has_ext(f, script_exec_exts) ||
               head_contains_ci(f, "<hta:application") || head_contains_ci(f, "wscript.shell");
    default:
        return false;
    }
}

const char *sw_file_kind_name(sw_file_kind k)
{
    switch (k) {
    case SW_FILE_KIND_PE: return "pe";
    case SW_FILE_KIND_ELF: return "elf";
    case SW_FILE_KIND_MACHO: return "macho";
    case SW_FILE_KIND_MSI: return "msi";
    case SW_FILE_KIND_OFFICE_MACRO: return "office-macro";
    case SW_FILE_KIND_OFFICE: return "office";
    case SW_FILE_KIND_SCRIPT: return "script";
    case SW_FILE_KIND_ARCHIVE: return "archive";
    case SW_FILE_KIND_PDF: return "pdf";
    default: return "other";
    }
}

const char *sw_file_state_name(sw_file_state s)
{
    switch (s) {
    case SW_FILE_OPEN: return "OPEN";
    case SW_FILE_CLOSED: return "CLOSED";
    case SW_FILE_TRUNCATED: return "TRUNCATED";
    default: return "UNKNOWN";
    }
}
