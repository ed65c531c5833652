/* classification.config: "config classification: name,description,priority". */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signatures/rule.h"

#define MAX_CLASSES 1024

typedef struct sw_class {
    char *name, *desc;
    int prio;
} sw_class;

struct sw_classes {
    size_t n;
    sw_class c[MAX_CLASSES];
};

static char *strip(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

sw_classes *sw_classes_load(const char *path, char *err, size_t errlen)
{
    sw_classes *cl = calloc(1, sizeof(*cl));
    if (!cl) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!path)
        return cl;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(cl);
        return NULL;
    }
    char line[1024];
    while (fgets(line, sizeof(line), f)) {
        char *s = strip(line);
        static const char pfx[] = "config classification:";
        if (strncmp(s, pfx, sizeof(pfx) - 1) != 0)
            continue;
        s += sizeof(pfx) - 1;
        char *c1 = strchr(s, ',');
        char *c2 = c1 ? strrchr(c1 + 1, ',') : NULL;
        if (!c1 || !c2 || cl->n >= MAX_CLASSES)
            continue; /* malformed lines are ignored, as Suricata does */
        *c1 = 0;
        *c2 = 0;
        char *name = strip(s), *desc = strip(c1 + 1), *prio = strip(c2 + 1);
        char *end;
        long p = strtol(prio, &end, 10);
        if (!*name || *end || p < 1 || p > 255)
            continue;
        sw_class *c = &cl->c[cl->n];
        c->name = strdup(name);
        c->desc = strdup(desc);
        c->prio = (int)p;
        if (!c->name || !c->desc) {
            free(c->name);
            free(c->desc);
            continue;
        }
        cl->n++;
    }
    fclose(f);
    return cl;
}

void sw_classes_free(sw_classes *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->c[i].name);
        free(c->c[i].desc);
    }
    free(c);
}

int sw_classes_lookup(const sw_classes *c, const char *name, const char **desc, int *prio)
{
    if (!c)
        return -1;
    for (size_t i = 0; i < c->n; i++) {
        if (strcasecmp(c->c[i].name, name) == 0) {
            *desc = c->c[i].desc;
            *prio = c->c[i].prio;
            return 0;
        }
    }
    return -1;
}
