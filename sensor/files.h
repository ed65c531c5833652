/* File tracking for transferred bodies (every HTTP response body is a file).
 *
 * A sw_file is set up once per flow (sw_file_init allocates the digest
 * contexts) and reused for each body: open, update with the bytes in order
 * (or gap), close. Closing finalises the hashes, asks libmagic about the
 * first bytes and classifies the content. Decoders describe; the verdict
 * helpers here decide; outputs only write. */
#ifndef SW_FILES_H
#define SW_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "decoders/http.h"

#define SW_FILE_HEAD 4096      /* first bytes kept for libmagic and classification */
#define SW_FILE_NAME_MAX 512
#define SW_FILE_CTYPE_MAX 128
#define SW_FILE_MAGIC_MAX 256
#define SW_FILE_TAIL 32        /* carry-over for patterns across chunk borders */

typedef enum sw_file_state {
    SW_FILE_NONE = 0,
    SW_FILE_OPEN,
    SW_FILE_CLOSED,    /* complete */
    SW_FILE_TRUNCATED, /* a gap, or the transfer ended early */
} sw_file_state;

typedef enum sw_file_kind {
    SW_FILE_KIND_OTHER = 0,
    SW_FILE_KIND_PE,
    SW_FILE_KIND_ELF,
    SW_FILE_KIND_MACHO,
    SW_FILE_KIND_MSI,
    SW_FILE_KIND_OFFICE_MACRO,
    SW_FILE_KIND_OFFICE,
    SW_FILE_KIND_SCRIPT,
    SW_FILE_KIND_ARCHIVE,
    SW_FILE_KIND_PDF,
} sw_file_kind;

/* sw_file.flags: the evidence behind the kind */
#define SW_FILE_F_SCRIPT_CONTENT 0x01u /* <HTA:APPLICATION, WScript.Shell, #! ... */
#define SW_FILE_F_SCRIPT_NAME 0x02u    /* .ps1 .vbs .hta .bat .cmd ... */
#define SW_FILE_F_EXEC_NAME 0x04u      /* .exe .dll .scr .msi .elf ... */
#define SW_FILE_F_VBA 0x08u            /* vbaProject.bin / _VBA_PROJECT seen */
#define SW_FILE_F_MSI_CLSID 0x10u
#define SW_FILE_F_OOXML 0x20u          /* [Content_Types].xml seen in a zip */

/* Per-thread libmagic handle (magic_t is not thread-safe). */
typedef struct sw_files_thread sw_files_thread;

/* NULL with a reason in err when libmagic or its database cannot load. */
sw_files_thread *sw_files_thread_new(char *err, size_t errlen);
void sw_files_thread_free(sw_files_thread *t);

typedef struct sw_file {
    EVP_MD_CTX *md5, *sha1, *sha256;
    sw_file_state state;
    bool gaps;
    uint64_t size; /* extent of the file: bytes seen plus gap bytes */
    uint64_t tx_id;
    uint8_t md5_digest[16], sha1_digest[20], sha256_digest[32];
    char filename[SW_FILE_NAME_MAX];
    size_t filename_len;
    char declared_type[SW_FILE_CTYPE_MAX]; /* lower-case, parameters removed */
    char magic[SW_FILE_MAGIC_MAX];         /* "" when unknown */
    uint8_t head[SW_FILE_HEAD];
    size_t head_len;
    uint8_t tail[SW_FILE_TAIL];
    size_t tail_len;
    uint32_t flags;
    sw_file_kind kind;
    bool type_mismatch; /* content contradicts Content-Type or file name */
} sw_file;

/* 0 on success, -1 if the digest contexts cannot be allocated. */
int sw_file_init(sw_file *f);
void sw_file_cleanup(sw_file *f);

/* Starts a new file. name/ctype may be NULL. */
void sw_file_open(sw_file *f, const uint8_t *name, size_t name_len,
                  const uint8_t *ctype, size_t ctype_len, uint64_t tx_id);
/* Opens the response body of tx as a file, named as Suricata names it:
 * the Content-Disposition filename, else the URI path without query. */
void sw_file_open_http(sw_file *f, const sw_http_tx *tx);
void sw_file_update(sw_file *f, const uint8_t *data, size_t len);
void sw_file_gap(sw_file *f, uint64_t len);
/* Finalises: state CLOSED unless truncated or gaps. t may be NULL (no magic). */
void sw_file_close(sw_file *f, sw_files_thread *t, bool truncated);

bool sw_file_is_executable_download(const sw_file *f);
const char *sw_file_kind_name(sw_file_kind k);
const char *sw_file_state_name(sw_file_state s);

#endif
