# Fulcrum — top-level build, run and test.
#   make run     install what is missing, build, run the stack in the foreground
#   make start   the same in the background (returns when healthy); make stop
#   make test    unit tests (plain and ASan/UBSan), fuzz smoke, end-to-end tests,
#                compose tests (when a Docker engine is available)
#   make test-compose  the Docker Compose deployment under scale and faults (tests/compose/)
#   make fuzz    libFuzzer runs of the untrusted-input parsers (bounded time)
#   make bench   call-rate capacity and added delay vs a plain Kamailio proxy (tests/bench/)

SHELL := /bin/bash
BUILD ?= build
SAN ?= 0
FUZZ_SECONDS ?= 60

CC ?= cc
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -Icallctl/src
ifeq ($(SAN),1)
OUT := $(BUILD)/san
CFLAGS_X := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS_X := -fsanitize=address,undefined
else
OUT := $(BUILD)/rel
CFLAGS_X := -O2
LDFLAGS_X :=
endif
CFLAGS_ALL := $(CFLAGS_COMMON) $(CFLAGS_X) $(CFLAGS)
LIBS := -luv -lhiredis -ljansson -lmicrohttpd -lcurl -lexpat -lcrypto -lm -lpthread

CALLCTL_SRC := $(wildcard callctl/src/*.c)
CALLCTL_LIBSRC := $(filter-out callctl/src/main.c,$(CALLCTL_SRC))
CALLCTL_OBJ := $(patsubst callctl/src/%.c,$(OUT)/obj/%.o,$(CALLCTL_SRC))
CALLCTL_LIBOBJ := $(patsubst callctl/src/%.c,$(OUT)/obj/%.o,$(CALLCTL_LIBSRC))
# Module sources that include no Kamailio header: linked into unit tests and fuzzers too.
MODPURE_SRC := kamailio-module/fc_digest.c kamailio-module/fc_refer.c kamailio-module/fc_sipcheck.c \
	kamailio-module/fc_sdpcheck.c
MODPURE_OBJ := $(patsubst kamailio-module/%.c,$(OUT)/modobj/%.o,$(MODPURE_SRC))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRC))
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

.PHONY: all deps callctl module unit test test-unit test-e2e test-compose run start stop fuzz fuzz-smoke clean format

all: callctl module tones

deps:
	@bash deploy/install-deps.sh

callctl: $(OUT)/callctl

$(OUT)/obj/%.o: callctl/src/%.c $(wildcard callctl/src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(OUT)/callctl: $(CALLCTL_OBJ)
	$(CC) $(LDFLAGS_X) -o $@ $^ $(LIBS)

.SECONDARY: $(MODPURE_OBJ)
$(OUT)/modobj/%.o: kamailio-module/%.c kamailio-module/%.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(OUT)/tests/test_%: tests/unit/test_%.c $(CALLCTL_LIBOBJ) $(MODPURE_OBJ) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/unit -Ikamailio-module -o $@ $< $(CALLCTL_LIBOBJ) $(MODPURE_OBJ) $(LDFLAGS_X) $(LIBS) -lcmocka

unit: $(UNIT_BIN)

# The Kamailio module, built against Debian's source of the installed version.
module:
	@src=$$(bash deploy/fetch-kamailio-src.sh $(BUILD)/kamailio-src) && \
	$(MAKE) -s -C kamailio-module COREPATH=$$src OUT=$(CURDIR)/$(BUILD)/modules

# Ringback tones for <Dial ringTone> (build/tones/<code>.wav; FULCRUM_TONES_DIR).
.PHONY: tones
tones: $(BUILD)/tones/.stamp

$(BUILD)/tones/.stamp: deploy/gen-tones.py
	python3 deploy/gen-tones.py $(BUILD)/tones
	@touch $@

test-unit:
	@$(MAKE) -s unit SAN=0 && $(MAKE) -s unit SAN=1
	@bash tests/run-unit.sh $(BUILD)/rel/tests $(BUILD)/san/tests

test-e2e: all
	@python3 tests/e2e/run.py

# The compose deployment (docker-compose.yml) under scale and faults: builds
# the images (debootstrap base image when no registry is reachable), runs its
# own stack on 127.0.0.1:25060 (SIP) / 28080 (REST), tears it down. Prints
# "compose tests SKIPPED: ..." and succeeds when no Docker engine can be had.
test-compose:
	@bash tests/compose/run.sh

# Call-rate capacity against a plain stateful Kamailio proxy (sipp, ~10 min at most).
.PHONY: bench
bench: deps all
	@python3 tests/bench/bench.py

# Everything CI runs. The last line is "N passed, N failed".
test:
	@bash tests/run-all.sh

run: deps all
	@bash deploy/stack.sh run

start: deps all
	@bash deploy/stack.sh start

stop:
	@bash deploy/stack.sh stop

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(CALLCTL_LIBSRC) $(MODPURE_SRC)
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -Icallctl/src -Ikamailio-module -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(CALLCTL_LIBSRC) $(MODPURE_SRC) $(LIBS)

fuzz: $(FUZZ_BIN)
	@set -o pipefail; for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p tests/fuzz/corpus/$$n $(BUILD)/fuzz/new-$$n; \
		echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=70000 -artifact_prefix=$(BUILD)/fuzz/ \
			$(BUILD)/fuzz/new-$$n tests/fuzz/corpus/$$n 2>&1 | tail -n 3 || exit 1; done

# A short run of every fuzzer over its corpus; part of `make test`.
fuzz-smoke:
	@$(MAKE) -s fuzz FUZZ_SECONDS=10

format:
	clang-format -i callctl/src/*.[ch] kamailio-module/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c

clean:
	rm -rf $(BUILD)/rel $(BUILD)/san $(BUILD)/fuzz $(BUILD)/modules $(BUILD)/tones
