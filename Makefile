# pk: deduplicating, compressing, encrypting backup filters.
CC      ?= cc
CFLAGS  ?= -O2 -g
PREFIX  ?= /usr/local
DESTDIR ?=
SANITIZE ?=

PKGS    = libsodium libzstd libxxhash libarchive libcrypto
WARN    = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
# Expanded when used, so after deps-check has installed what was missing.
PKCFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALLCFLAGS = $(WARN) -D_GNU_SOURCE -Ilib $(PKCFLAGS) $(CFLAGS)
LDLIBS   = $(PKLIBS) -lpthread
ifneq ($(SANITIZE),)
ALLCFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS   += -fsanitize=$(SANITIZE)
endif
# Everything built depends on .build-flags, which changes only when the
# flags do: a build with other flags (SANITIZE=, CFLAGS=) rebuilds it all.
BUILDFLAGS = $(CC) $(ALLCFLAGS) $(LDFLAGS) $(LDLIBS)

TOOLS   = pk-walk pk-chunk pk-dedup pk-store pk-index pk-cat
LIBSRC  = $(sort $(wildcard lib/*.c))
LIBOBJ  = $(LIBSRC:.c=.o)
UNITSRC = $(sort $(wildcard tests/unit/t-*.c))
UNITS   = $(UNITSRC:.c=)
BINS    = $(addprefix bin/,$(TOOLS))
MAN1    = $(addprefix man/,$(addsuffix .1,$(TOOLS)))
MAN     = $(MAN1) man/pk-stream.5 man/pk-repo.5 man/pk.7

all: deps-check $(BINS)

deps-check:
	@scripts/deps.sh

.build-flags: FORCE | deps-check
	@f='$(BUILDFLAGS)'; [ "$$f" = "$$(cat $@ 2>/dev/null)" ] || echo "$$f" >$@

lib/libpk.a: $(LIBOBJ)
	$(AR) rcs $@ $(LIBOBJ)

lib/%.o: lib/%.c lib/*.h .build-flags
	$(CC) $(ALLCFLAGS) -c -o $@ $<

bin/common.o: bin/common.c bin/common.h lib/*.h .build-flags
	$(CC) $(ALLCFLAGS) -c -o $@ $<

bin/%: bin/%.c bin/common.o lib/libpk.a lib/*.h bin/common.h .build-flags
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< bin/common.o lib/libpk.a $(LDLIBS)

tests/unit/t-%: tests/unit/t-%.c tests/unit/unit.h lib/libpk.a lib/*.h .build-flags
	$(CC) $(ALLCFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< lib/libpk.a $(LDLIBS)

tests/gen: tests/gen.c .build-flags
	$(CC) $(ALLCFLAGS) -o $@ $<

FUZZ    = $(patsubst tests/fuzz/%.c,tests/fuzz/%,$(wildcard tests/fuzz/fuzz-*.c))

tests/fuzz/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/standalone.c lib/libpk.a lib/*.h .build-flags
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/standalone.c lib/libpk.a $(LDLIBS)

# libFuzzer builds (clang): make fuzz, then tests/fuzz/lf-stream CORPUS_DIR
fuzz: lib/libpk.a
	for f in $(FUZZ); do n=$$(basename $$f | sed 's/fuzz-//'); \
	clang -g -O1 -fsanitize=fuzzer,address,undefined $(WARN) -D_GNU_SOURCE -Ilib \
		$(PKCFLAGS) -o tests/fuzz/lf-$$n $$f.c $(LIBSRC) $(LDLIBS) || exit 1; done

check: all $(UNITS) $(FUZZ) tests/gen
	@tests/run.sh $(UNITS) $(FUZZ)

demo: all
	@scripts/demo.sh

bench: all
	@scripts/bench.sh

bench-deps:
	@scripts/bench-deps.sh

lint:
	@scripts/lint.sh $(MAN)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 man/pk-stream.5 man/pk-repo.5 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 644 man/pk.7 $(DESTDIR)$(PREFIX)/share/man/man7

clean:
	rm -f lib/*.o bin/*.o lib/libpk.a $(BINS) $(UNITS) $(FUZZ) tests/gen tests/fuzz/lf-* .build-flags
	rm -rf tests/scratch

.PHONY: all deps-check check demo bench bench-deps lint install clean FORCE
.SECONDARY: $(LIBOBJ)
