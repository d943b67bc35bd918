# pk: deduplicating, compressing, encrypting backup filters.
CC      ?= cc
CFLAGS  ?= -O2 -g
PREFIX  ?= /usr/local
DESTDIR ?=
SANITIZE ?=

PKGS    = libsodium libzstd libxxhash libarchive libcrypto libcurl
WARN    = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-unused-parameter
# Expanded when used, so after make deps has installed what was missing.
PKCFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# The library's floors, each using only those before it: common helpers,
# the record stream and its filters, the repository, the engines of the
# tools that work on one.
LIBDIRS = common stream repo engine
INCS    = -Ilib $(addprefix -Ilib/,$(LIBDIRS))
# -MMD: each object also depends on the headers it includes (the .d files).
ALLCFLAGS = $(WARN) -D_GNU_SOURCE $(INCS) -MMD -MP $(PKCFLAGS) $(CFLAGS)
LDLIBS   = $(PKLIBS) -lpthread
ifneq ($(SANITIZE),)
ALLCFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS   += -fsanitize=$(SANITIZE)
endif
# Everything built depends on .build-flags, which changes only when the
# flags do: a build with other flags (SANITIZE=, CFLAGS=) rebuilds it all.
BUILDFLAGS = $(CC) $(ALLCFLAGS) $(LDFLAGS) $(LDLIBS)

TOOLS   = pk-walk pk-chunk pk-dedup pk-store pk-index pk-cat pk-forget pk-gc \
	pk-key pk-mount
LIBSRC  = $(sort $(wildcard $(addsuffix /*.c,$(addprefix lib/,$(LIBDIRS)))))
LIBOBJ  = $(LIBSRC:.c=.o)
UNITSRC = $(sort $(wildcard tests/unit/t-*.c))
UNITS   = $(UNITSRC:.c=)
BINS    = $(addprefix bin/,$(TOOLS))
MAN1    = $(addprefix man/,$(addsuffix .1,$(TOOLS)))
MAN     = $(MAN1) man/pk-stream.5 man/pk-repo.5 man/pk.7

all: deps-check $(BINS)

# A plain build only says what is missing; make deps installs it (apt-get,
# as root), and so do make check and make demo, which are how one starts.
deps-check:
	@scripts/deps.sh $(DEPS_INSTALL)

deps:
	@scripts/deps.sh --install

check demo: DEPS_INSTALL = --install

.build-flags: FORCE | deps-check
	@f='$(BUILDFLAGS)'; [ "$$f" = "$$(cat $@ 2>/dev/null)" ] || echo "$$f" >$@

lib/libpk.a: $(LIBOBJ)
	$(AR) rcs $@ $(LIBOBJ)

lib/%.o: lib/%.c .build-flags
	$(CC) $(ALLCFLAGS) -c -o $@ $<

bin/common.o: bin/common.c .build-flags
	$(CC) $(ALLCFLAGS) -c -o $@ $<

bin/unlock.o: bin/unlock.c .build-flags
	$(CC) $(ALLCFLAGS) -c -o $@ $<

bin/json.o: bin/json.c .build-flags
	$(CC) $(ALLCFLAGS) -c -o $@ $<

bin/meter.o: bin/meter.c .build-flags
	$(CC) $(ALLCFLAGS) -c -o $@ $<

# The tools that open a repository; the filters link none of its code.
bin/pk-store bin/pk-index bin/pk-cat bin/pk-forget bin/pk-gc bin/pk-key bin/pk-mount: bin/unlock.o
bin/pk-index bin/pk-forget bin/pk-store bin/pk-gc bin/pk-key: bin/json.o
# The tools that draw a progress line.
bin/pk-store bin/pk-cat: bin/meter.o

bin/%: bin/%.c bin/common.o lib/libpk.a .build-flags
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< $(filter %.o,$^) lib/libpk.a $(LDLIBS)

# Only pk-mount links libfuse3.
FUSECFLAGS = $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSELIBS   = $(shell pkg-config --libs fuse3 2>/dev/null)

bin/pk-mount: bin/pk-mount.c bin/common.o lib/libpk.a .build-flags
	$(CC) $(ALLCFLAGS) $(FUSECFLAGS) $(LDFLAGS) -o $@ $< $(filter %.o,$^) lib/libpk.a $(FUSELIBS) $(LDLIBS)

tests/unit/t-%: tests/unit/t-%.c lib/libpk.a .build-flags
	$(CC) $(ALLCFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< lib/libpk.a $(LDLIBS)

tests/gen: tests/gen.c .build-flags
	$(CC) $(ALLCFLAGS) -o $@ $<

FUZZ    = $(patsubst tests/fuzz/%.c,tests/fuzz/%,$(sort $(wildcard tests/fuzz/fuzz-*.c)))

tests/fuzz/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/standalone.c lib/libpk.a .build-flags
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/standalone.c lib/libpk.a $(LDLIBS)

# libFuzzer builds (clang): make fuzz, then make fuzz-run FUZZ_S=seconds
# (FUZZ_TARGETS="stream pack" for some), or tests/fuzz/lf-NAME CORPUS_DIR.
LFCC    = clang
LFFLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all $(WARN) \
	-D_GNU_SOURCE $(INCS) $(PKCFLAGS)
LFOBJ   = $(patsubst lib/%.c,tests/fuzz/lf/%.o,$(LIBSRC))
LFUZZ   = $(patsubst tests/fuzz/fuzz-%,tests/fuzz/lf-%,$(FUZZ))
FUZZ_S  ?= 60
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz-%,%,$(FUZZ))

fuzz-deps:
	@scripts/fuzz-deps.sh

tests/fuzz/lf/%.o: lib/%.c lib/*/*.h | deps-check fuzz-deps
	@mkdir -p $(dir $@)
	$(LFCC) $(LFFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

tests/fuzz/lf/libpk.a: $(LFOBJ)
	$(AR) rcs $@ $(LFOBJ)

tests/fuzz/lf-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h tests/fuzz/lf/libpk.a
	$(LFCC) $(LFFLAGS) -fsanitize=fuzzer -o $@ $< tests/fuzz/lf/libpk.a $(LDLIBS)

fuzz: fuzz-deps $(LFUZZ)

fuzz-run: fuzz
	@scripts/fuzz-run.sh $(FUZZ_S) $(FUZZ_TARGETS)

# Seeds of the corpora, made by the tools in a scratch repository.
fuzz-seed: all tests/gen
	@scripts/fuzz-seed.sh

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

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(TOOLS)) \
		$(addprefix $(DESTDIR)$(PREFIX)/share/man/man1/,$(notdir $(MAN1))) \
		$(DESTDIR)$(PREFIX)/share/man/man5/pk-stream.5 \
		$(DESTDIR)$(PREFIX)/share/man/man5/pk-repo.5 \
		$(DESTDIR)$(PREFIX)/share/man/man7/pk.7

clean:
	rm -f lib/*/*.o bin/*.o lib/libpk.a $(BINS) $(UNITS) $(FUZZ) tests/gen tests/fuzz/lf-* .build-flags
	rm -f lib/*/*.d bin/*.d tests/unit/*.d tests/fuzz/*.d tests/*.d
	rm -rf tests/scratch tests/fuzz/lf tests/fuzz/work

-include $(wildcard lib/*/*.d bin/*.d tests/unit/*.d tests/fuzz/*.d tests/*.d)

.PHONY: all deps deps-check check demo bench bench-deps lint install uninstall clean fuzz \
	fuzz-deps fuzz-run fuzz-seed FORCE
.SECONDARY: $(LIBOBJ) $(LFOBJ)
