#!/usr/bin/env bash
# test/tools/indent.sh -- lay out the C sources as pgindent would, with
# pg_bsd_indent 2.1.1 (Debian package pg-bsd-indent) and pgindent's options.
# Our types come from typedefs.list (every typedef of src/, regenerated here);
# PostgreSQL's that we use are below.
# Generated files are left as they are: src/core/pe_tables.c
# (test/tools/gen_core_tables.py), src/core/pe_phone_tables.[ch]
# (test/tools/gen_phone_tables.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
PG_TYPES="Datum Jsonb JsonbValue JsonbParseState JsonbIterator JsonbIteratorToken
JsonbContainer FunctionCallInfo MemoryContext TimestampTz pg_uuid_t bytea text Oid
int64 int32 int16 uint8 uint32 uint64 StringInfoData StringInfo HeapTuple TupleDesc
TriggerData SPIPlanPtr SPITupleTable Portal HTAB HASHCTL HASH_SEQ_STATUS ErrorData
ArrayType LWLock Size size_t int64_t uint8_t uint32_t ResourceOwner JsonLexContext
Form_pg_attribute Form_pg_class crypto_hash_sha256_state shmem_startup_hook_type
shmem_request_hook_type Numeric AttrNumber va_list GrantStmt AccessPriv RoleSpec
ObjectWithArgs ObjectType GrantTargetType List ReturnSetInfo XactEvent SubXactEvent
SubTransactionId PGconn PGresult FILE"
# typedefs.list: every typedef name of src/
/usr/bin/python3 - <<'PY'
import glob, re
names = set()
for f in glob.glob('src/**/*.[ch]', recursive=True):
    s = open(f, errors='replace').read()
    names.update(m.group(1) for m in re.finditer(r'^typedef\b[^;{]*?\b([A-Za-z_]\w*)\s*;', s, re.M))
    names.update(m.group(1) for m in re.finditer(
        r'^typedef\s+(?:struct|enum|union)[^{;]*\{.*?^\}\s*([A-Za-z_]\w*)\s*;', s, re.M | re.S))
    names.update(m.group(1) for m in re.finditer(r'^typedef\s+[^;(]*\(\s*\*\s*([A-Za-z_]\w*)\s*\)', s, re.M))
open('typedefs.list', 'w').write('\n'.join(sorted(names)) + '\n')
PY
opts=""
for t in $(cat typedefs.list) $PG_TYPES; do opts="$opts -T$t"; done
for f in src/*.h src/*/*.[ch] test/unit/*.c test/fuzz/*.c test/bench/*.c; do
	case "$f" in src/core/pe_tables.c | src/core/pe_phone_tables.[ch]) continue ;; esac
	# pg_bsd_indent mangles the byte 0x80 (in UTF-8: the second byte of
	# characters such as U+0440): C sources spell such text as \x escapes
	if LC_ALL=C grep -q -P '\x80' "$f"; then
		echo "indent.sh: $f has the byte 0x80; write that text as \\x escapes" >&2
		exit 1
	fi
	pg_bsd_indent -bad -bap -bbb -bc -bl -cli1 -cp33 -cdb -nce -d0 -di12 -nfc1 -i4 \
		-l79 -lp -lpl -nip -npro -sac -tpg -ts4 $opts "$f" "$f.indented"
	mv "$f.indented" "$f"
	iconv -f UTF-8 -t UTF-8 "$f" >/dev/null || { echo "indent.sh: $f is no longer UTF-8" >&2; exit 1; }
done
