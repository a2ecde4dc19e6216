# Makefile for profile_ext (PGXS)

EXTENSION = profile_ext
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = profile_ext
# the layers, bottom up; a file calls only into its own layer or the ones
# below (test/tools/check_layers.py checks it)
OBJS = \
	src/core/pe_errors.o \
	src/core/pe_fields.o \
	src/core/pe_identity.o \
	src/core/pe_json.o \
	src/core/pe_phone.o \
	src/core/pe_phone_tables.o \
	src/core/pe_tables.o \
	src/core/pe_url.o \
	src/core/pe_validate.o \
	src/base/crypto.o \
	src/base/errors.o \
	src/base/json.o \
	src/base/postgrest.o \
	src/base/rowinsert.o \
	src/base/spi.o \
	src/catalog/cache.o \
	src/catalog/ratelimit.o \
	src/catalog/settings.o \
	src/model/caller.o \
	src/model/document.o \
	src/model/fields.o \
	src/audit/audit.o \
	src/audit/chain.o \
	src/audit/erasure.o \
	src/audit/trigger.o \
	src/store/idempotency.o \
	src/store/profiles.o \
	src/store/verification.o \
	src/api/admin.o \
	src/api/create.o \
	src/api/distribute.o \
	src/api/identity.o \
	src/api/lifecycle.o \
	src/api/legacy.o \
	src/api/module.o \
	src/api/register.o \
	src/api/rowcheck.o \
	src/api/update.o \
	src/api/verify.o
PGFILEDESC = "profile_ext - profile creation inside the database"

# the released install script and the upgrade scripts: CREATE EXTENSION
# runs 1.0, then each upgrade in turn
DATA = $(EXTENSION)--1.0.sql $(EXTENSION)--1.0--1.1.sql

PG_CPPFLAGS = -I$(srcdir)/src -DPROFILE_EXT_VERSION=\"$(EXTVERSION)\" \
	-Wall -Wextra -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare
# ICU for Unicode (normalisation, case folding, the spoof checker): the
# library PostgreSQL itself links
ICU_LIBS = $(shell pkg-config --libs icu-uc icu-i18n)
SHLIB_LINK = -lsodium -lcrypto $(ICU_LIBS)
# make ASSERTS=1: our Assert()s checked (the server's own need an assert build)
ifdef ASSERTS
PG_CPPFLAGS += -DUSE_ASSERT_CHECKING
endif

# pg_regress: one file per area (sql/, expected/)
REGRESS = install admin principal contract fields email phone uniqueness identity \
	register lifecycle batch idempotency trail marks chain \
	rowinsert onboard verification privileges security malformed limits postgrest ratelimit errors seeds audit cleanup
# Each file starts from a fresh extension (test/fresh.sql), so one can run
# alone: make installcheck REGRESS=fields.  pg_regress and
# pg_isolation_regress start a throwaway server of their own
# (--temp-instance, with test/regress.conf); run them as a user that may
# start PostgreSQL (not root).
REGRESS_OPTS = --inputdir=$(srcdir) --temp-instance=./tmp_check_regress \
	--temp-config=$(srcdir)/test/regress.conf --encoding=UTF8

# isolation specs (test/specs, test/expected)
ISOLATION = unique_race register_race audit_chain cache_invalidation mailers seal_race confusable_switch erase_race idempotency_race
ISOLATION_OPTS = --inputdir=$(srcdir)/test --temp-instance=./tmp_check_iso \
	--temp-config=$(srcdir)/test/regress.conf --encoding=UTF8

# TAP tests (test/t): restarts, server log; PostgreSQL::Test::Cluster
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# every object depends on the headers (PGXS tracks no dependencies)
$(OBJS): $(wildcard $(srcdir)/src/*.h $(srcdir)/src/*/*.h)

# after the include, which empties it: print every TAP line, so that
# test/check.sh can count them
PROVE_FLAGS = -v

# unit tests of the rule core (no server needed)
CORE_SRCS = $(wildcard $(srcdir)/src/core/*.c)
test/unit/test_core: $(srcdir)/test/unit/test_core.c $(CORE_SRCS) $(wildcard $(srcdir)/src/core/*.h)
	$(CC) -std=c99 -O1 -g -Wall -Wextra -Wno-missing-field-initializers \
		-I$(srcdir)/src/core -o $@ $(srcdir)/test/unit/test_core.c $(CORE_SRCS) $(ICU_LIBS)

.PHONY: unitcheck
unitcheck: test/unit/test_core
	./test/unit/test_core $(srcdir)/test/unit/phone_cases.tsv

installcheck: unitcheck

EXTRA_CLEAN = test/fuzz/fuzz_core test/unit/test_core output_iso results regression.diffs regression.out \
	log tmp_check_regress tmp_check_iso

# libFuzzer + ASan/UBSan over the rule core (clang); not part of installcheck
FUZZ_SECONDS ?= 60
test/fuzz/fuzz_core: $(srcdir)/test/fuzz/fuzz_core.c $(CORE_SRCS) $(wildcard $(srcdir)/src/core/*.h)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-I$(srcdir)/src/core -o $@ $(srcdir)/test/fuzz/fuzz_core.c $(CORE_SRCS) $(ICU_LIBS)

.PHONY: fuzzcheck
fuzzcheck: test/fuzz/fuzz_core
	mkdir -p test/fuzz/corpus
	./test/fuzz/fuzz_core -max_total_time=$(FUZZ_SECONDS) -max_len=512 test/fuzz/corpus

# the module graph of the objects: no circle, no call up into a higher layer
.PHONY: layercheck
layercheck: all
	/usr/bin/python3 $(srcdir)/test/tools/check_layers.py $(srcdir)
