/* sw_file: hashes and classification on real transferred files (an ELF
 * sent over a raw TCP connection, a PE over FTP data) and on small
 * synthetic containers (OOXML with vbaProject.bin, OLE/MSI, scripts).
 * Hashes were computed independently: tshark follow,tcp,raw + hashlib. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sensor/eve_http.h"
#include "sensor/files.h"
#include "sensor/json.h"
#include "test_http_pcap.h"

static sw_files_thread *ft;

static int setup(void **st)
{
    char err[256];
    ft = sw_files_thread_new(err, sizeof(err));
    return ft ? 0 : -1;
}

static int teardown(void **st)
{
    sw_files_thread_free(ft);
    return 0;
}

static void hex(char *out, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

/* Feeds buf in pieces of step bytes (0 = whole) and closes. */
static void file_of(sw_file *f, const char *name, const char *ctype, const uint8_t *buf,
                    size_t n, size_t step)
{
    sw_file_open(f, (const uint8_t *)name, name ? strlen(name) : 0,
                 (const uint8_t *)ctype, ctype ? strlen(ctype) : 0, 3);
    size_t st = step ? step : (n ? n : 1);
    for (size_t o = 0; o < n; o += st)
        sw_file_update(f, buf + o, n - o < st ? n - o : st);
    sw_file_close(f, ft, false);
}

static void stream_file(const char *pcap, uint16_t port, int dir, size_t step, sw_file *f,
                        const char *name)
{
    char path[1024];
    tp_conn c;
    assert_int_equal(tp_read(tu_test_pcap(path, sizeof(path), pcap), port, &c), 0);
    file_of(f, name, NULL, c.data[dir], c.len[dir], step);
    tp_free(&c);
}

static void test_elf_stream(void **st)
{
    sw_file f;
    assert_int_equal(sw_file_init(&f), 0);
    for (size_t step = 0; step <= 1; step++) {
        stream_file("ndpi-elf.pcap", 33333, 0, step ? 1 : 0, &f, "/payload");
        assert_int_equal(f.size, 31032);
        assert_int_equal(f.state, SW_FILE_CLOSED);
        char h[65];
        hex(h, f.sha256_digest, 32);
        assert_string_equal(h, "2b7d862f7ca6a83b339b6fb9efd0a1533a69738bb6b85c2c145cfc17cbf2e19e");
        hex(h, f.md5_digest, 16);
        assert_string_equal(h, "a22e97279ac0180a817464928a90de75");
        hex(h, f.sha1_digest, 20);
        assert_string_equal(h, "8d721b6489b08f72bfbd84de5e943f70f387d2da");
        assert_int_equal(f.kind, SW_FILE_KIND_ELF);
        assert_true(sw_file_is_executable_download(&f));
        assert_non_null(strstr(f.magic, "ELF 64-bit"));
    }
    sw_file_cleanup(&f);
}

static void test_pe_ftp_data(void **st)
{
    sw_file f;
    assert_int_equal(sw_file_init(&f), 0);
    stream_file("zeek-pe-single.pcap", 11886 /* FTP data */, 1, 0, &f, "/file.exe");
    assert_int_equal(f.size, 43568);
    char h[65];
    hex(h, f.sha256_digest, 32);
    assert_string_equal(h, "b53d48d42cfcddf6fdb9a39ef0f7a1d01b9d6388b8b4ff6d4d7bc9423f87ca8c");
    hex(h, f.md5_digest, 16);
    assert_string_equal(h, "f8c0d519ed96eb3f99d85878ad4d6a35");
    assert_int_equal(f.kind, SW_FILE_KIND_PE);
    assert_true(sw_file_is_executable_download(&f));
    assert_false(f.type_mismatch);
    assert_non_null(strstr(f.magic, "PE32"));
    /* the same bytes declared as a JPEG: mismatch */
    char path[1024];
    tp_conn c;
    assert_int_equal(tp_read(tu_test_pcap(path, sizeof(path), "zeek-pe-single.pcap"), 11886, &c),
                     0);
    file_of(&f, "/cat.jpg", "image/jpeg; q=1", c.data[1], c.len[1], 4096);
    assert_true(f.type_mismatch);
    assert_string_equal(f.declared_type, "image/jpeg");
    tp_free(&c);
    sw_file_cleanup(&f);
}

/* Minimal zip: local headers with the given entry names and no data. */
static size_t mini_zip(uint8_t *out, const char *const *names, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t lh[30] = {'P', 'K', 3, 4, 20, 0};
        size_t nl = strlen(names[i]);
        lh[26] = (uint8_t)nl;
        memcpy(out + o, lh, 30);
        o += 30;
        memcpy(out + o, names[i], nl);
        o += nl;
        memset(out + o, 0x55, 700); /* stand-in for entry data */
        o += 700;
    }
    return o;
}

static void test_ooxml_macro(void **st)
{
    sw_file f;
    assert_int_equal(sw_file_init(&f), 0);
    uint8_t buf[8192];
    const char *macro[] = {"[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"};
    size_t n = mini_zip(buf, macro, 3);
    /* pattern split across every possible chunk border */
    for (size_t step = 1; step <= 13; step += 4) {
        file_of(&f, "/invoice.docm", NULL, buf, n, step);
        assert_int_equal(f.kind, SW_FILE_KIND_OFFICE_MACRO);
        assert_false(sw_file_is_executable_download(&f));
    }
    const char *plain[] = {"[Content_Types].xml", "word/document.xml"};
    n = mini_zip(buf, plain, 2);
    file_of(&f, "/invoice.docx", NULL, buf, n, 5);
    assert_int_equal(f.kind, SW_FILE_KIND_OFFICE);
    const char *arch[] = {"a.txt", "b.txt"};
    n = mini_zip(buf, arch, 2);
    file_of(&f, "/x.zip", "application/zip", buf, n, 0);
    assert_int_equal(f.kind, SW_FILE_KIND_ARCHIVE);
    sw_file_cleanup(&f);
}

static void test_ole_msi_and_vba(void **st)
{
    sw_file f;
    assert_int_equal(sw_file_init(&f), 0);
    static uint8_t ole[6000];
    static const uint8_t magic[8] = {0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1};
    static const uint8_t clsid[16] = {0x84, 0x10, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
    memset(ole, 0, sizeof(ole));
    memcpy(ole, magic, 8);
    memcpy(ole + 5000 + 0x50, clsid, 16); /* root entry CLSID, past the head */
    file_of(&f, "/setup.bin", "application/octet-stream", ole, sizeof(ole), 3);
    assert_int_equal(f.kind, SW_FILE_KIND_MSI);
    assert_true(sw_file_is_executable_download(&f));

    memset(ole + 5000, 0, 200);
    static const char vba[] = "_VBA_PROJECT";
    for (size_t i = 0; i < sizeof(vba) - 1; i++)
        ole[5100 + 2 * i] = (uint8_t)vba[i];
    file_of(&f, "/report.doc", "application/msword", ole, sizeof(ole), 7);
    assert_int_equal(f.kind, SW_FILE_KIND_OFFICE_MACRO);
    assert_false(sw_file_is_executable_download(&f));

    /* .msi by name alone */
    memset(ole + 5100, 0, 40);
    file_of(&f, "/pkg.MSI", NULL, ole, sizeof(ole), 0);
    assert_int_equal(f.kind, SW_FILE_KIND_MSI);
    sw_file_cleanup(&f);
}

static void test_scripts(void **st)
{
    sw_file f;
    assert_int_equal(sw_file_init(&f), 0);
    const char *hta = "<html><head><HTA:APPLICATION ID=\"x\"/></head></html>";
    file_of(&f, "/page", "text/html", (const uint8_t *)hta, strlen(hta), 0);
    assert_int_equal(f.kind, SW_FILE_KIND_SCRIPT);
    assert_true(sw_file_is_executable_download(&f));

    const char *js = "function f(){return 1}";
    file_of(&f, "/static/app.js", "application/javascript", (const uint8_t *)js, strlen(js), 0);
    assert_int_equal(f.kind, SW_FILE_KIND_SCRIPT);
    assert_false(sw_file_is_executable_download(&f)); /* every site serves .js */

    const char *ps = "Write-Host hi";
    file_of(&f, "/dl/run.ps1", NULL, (const uint8_t *)ps, strlen(ps), 0);
    assert_true(sw_file_is_executable_download(&f));

    const char *txt = "how to use PowerShell remoting";
    file_of(&f, "/notes.txt", "text/plain", (const uint8_t *)txt, strlen(txt), 0);
    assert_int_equal(f.kind, SW_FILE_KIND_SCRIPT);
    assert_false(sw_file_is_executable_download(&f));
    sw_file_cleanup(&f);
}

static void test_fileinfo_eve(void **st)
{
    sw_file f;
    assert_int_equal(sw_file_init(&f), 0);
    const char *eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
    file_of(&f, "eicar.txt", "application/octet-stream", (const uint8_t *)eicar,
            strlen(eicar), 1);
    sw_json j;
    swj_init(&j);
    swj_reset(&j);
    sw_eve_fileinfo(&j, &f);
    size_t n = swj_finish(&j);
    assert_true(n > 0);
    const char *want_head = "{\"fileinfo\":{\"filename\":\"eicar.txt\",\"magic\":\"";
    assert_memory_equal(j.buf, want_head, strlen(want_head));
    const char *want_tail =
        "\"gaps\":false,\"state\":\"CLOSED\",\"md5\":\"44d88612fea8a8f36de82e1278abb02f\","
        "\"sha1\":\"3395856ce81f2b7382dee72602f798b642f14140\","
        "\"sha256\":\"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\","
        "\"stored\":false,\"size\":68,\"tx_id\":3}}\n";
    assert_non_null(strstr(j.buf, want_tail));

    /* truncated: no md5/sha1, as Suricata */
    sw_file_open(&f, (const uint8_t *)"x", 1, NULL, 0, 0);
    sw_file_update(&f, (const uint8_t *)"abc", 3);
    sw_file_gap(&f, 10);
    sw_file_update(&f, (const uint8_t *)"def", 3);
    sw_file_close(&f, ft, false);
    assert_int_equal(f.state, SW_FILE_TRUNCATED);
    assert_int_equal(f.size, 16);
    swj_reset(&j);
    sw_eve_fileinfo(&j, &f);
    swj_finish(&j);
    assert_null(strstr(j.buf, "md5"));
    assert_non_null(strstr(j.buf, "\"gaps\":true,\"state\":\"TRUNCATED\",\"sha256\":"));
    swj_free(&j);
    sw_file_cleanup(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elf_stream),
        cmocka_unit_test(test_pe_ftp_data),
        cmocka_unit_test(test_ooxml_macro),
        cmocka_unit_test(test_ole_msi_and_vba),
        cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_fileinfo_eve),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
