#!/usr/bin/python3
"""
test/tools/gen_phone_tables.py -- generate src/core/pe_phone_tables.[ch]

libphonenumber's metadata, from Debian 12's python3-phonenumbers (8.12.57,
the metadata of Debian's libphonenumber8), as static tables for the phone
rule of the core (src/core/pe_phone.c):

  - per region: its calling code, the national-number pattern and the
    possible lengths of each number type, leading digits (regions that
    share a calling code), the national prefix for parsing and its
    transform rule;
  - per calling code: its regions, in libphonenumber's order.

Every national-number and leading-digits pattern is compiled here into a
minimised DFA over the digits 0-9 (11 bytes a state: ten transitions, 0xff
for none, and an accept flag), so matching is a table walk with no memory
of its own.  Only the national prefixes for parsing, which need capture
groups for their transform rules, stay regular expressions, translated to
POSIX ERE here ((?: becomes (, \d becomes [0-9]) and compiled by the C
code on first use.  Everything else lives in one character pool addressed
by offsets: the tables hold no pointer, so they are read-only data shared
by every backend.

Usage (from the top of the repository):

  apt-get install -y python3-phonenumbers
  /usr/bin/python3 test/tools/gen_phone_tables.py src/core/pe_phone_tables

The C code matches libphonenumber on every example number of every region
and type, trunk-prefix and 00 forms of them, and possible-but-invalid
numbers: test/unit/phone_cases.tsv (made by test/tools/gen_phone_cases.py
with the same library) is checked by the unit test.
"""
import sys
try:
    import re._parser as sre_parse
    import re._constants as sre_c
except ImportError:          # python < 3.11
    import sre_parse
    import sre_constants as sre_c
import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata
from phonenumbers import phonenumberutil as pu

# Order = pe_desc index used by pe_phone_b.c
DESCS = ['general_desc', 'fixed_line', 'mobile', 'toll_free', 'premium_rate',
         'shared_cost', 'personal_number', 'voip', 'pager', 'uan', 'voicemail']

KIND_FULL, KIND_PREFIX, KIND_NPP = 0, 1, 2


def translate(p):
    """Translate a libphonenumber (ICU/RE2/Python) regex into POSIX ERE.
    Returns (ere, capmap) where capmap[i] is the ERE group index (before the
    anchoring wrapper) of the original capturing group i+1."""
    out = []
    capmap = []
    ngroups = 0
    i = 0
    in_br = False
    while i < len(p):
        c = p[i]
        if c == '\\':
            n = p[i + 1]
            if n == 'd':
                out.append('0-9' if in_br else '[0-9]')
            elif n.isdigit():
                raise ValueError('backreference in pattern %r' % p)
            else:
                out.append(n if in_br else '\\' + n)
            i += 2
            continue
        if in_br:
            if c == ']':
                in_br = False
            out.append(c)
            i += 1
            continue
        if c == '[':
            in_br = True
            out.append(c)
            i += 1
            continue
        if c == '(':
            ngroups += 1
            if p.startswith('(?:', i):
                i += 3
            elif p.startswith('(?', i):
                raise ValueError('unsupported group syntax in %r' % p)
            else:
                capmap.append(ngroups)
                i += 1
            out.append('(')
            continue
        if c in '*+' and i > 0 and p[i - 1] in '*+?}':
            raise ValueError('possessive/lazy quantifier in %r' % p)
        if c == '?' and i > 0 and p[i - 1] in '*+?}':
            raise ValueError('lazy quantifier in %r' % p)
        out.append(c)
        i += 1
    return ''.join(out), capmap


DFA_MODE = True
DIGITS = '0123456789'
dfa_bytes = bytearray()     # 11 bytes per state
dfa_stats = {'patterns': 0, 'states': 0, 'max': 0}


def _charset(items):
    out = set()
    for op, av in items:
        if op == sre_c.LITERAL:
            out.add(chr(av))
        elif op == sre_c.RANGE:
            out.update(chr(c) for c in range(av[0], av[1] + 1))
        elif op == sre_c.CATEGORY and av == sre_c.CATEGORY_DIGIT:
            out.update(DIGITS)
        else:
            raise ValueError('unsupported class item %r' % ((op, av),))
    return frozenset(out & set(DIGITS))


def _nfa_build(eps, tr, items, cur):
    def new():
        eps.append([])
        tr.append([])
        return len(eps) - 1
    for op, av in items:
        if op == sre_c.LITERAL:
            e = new()
            tr[cur].append((frozenset(chr(av)) & frozenset(DIGITS), e))
            cur = e
        elif op == sre_c.IN:
            e = new()
            tr[cur].append((_charset(av), e))
            cur = e
        elif op == sre_c.SUBPATTERN:
            cur = _nfa_build(eps, tr, av[-1], cur)
        elif op == sre_c.BRANCH:
            e = new()
            for alt in av[1]:
                st = new()
                eps[cur].append(st)
                x = _nfa_build(eps, tr, alt, st)
                eps[x].append(e)
            cur = e
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            lo, hi, sub = av
            if hi == sre_c.MAXREPEAT:      # x* / x+ : loop
                for _ in range(lo):
                    cur = _nfa_build(eps, tr, sub, cur)
                loop = new()
                eps[cur].append(loop)
                x = _nfa_build(eps, tr, sub, loop)
                eps[x].append(loop)
                cur = loop
            else:
                for _ in range(lo):
                    cur = _nfa_build(eps, tr, sub, cur)
                e = new()
                eps[cur].append(e)
                for _ in range(hi - lo):
                    cur = _nfa_build(eps, tr, sub, cur)
                    eps[cur].append(e)
                cur = e
        else:
            raise ValueError('unsupported regex op %r in DFA mode' % (op,))
    return cur


def build_dfa(pattern):
    """Python-regex -> minimised DFA over 0-9. Returns (trans, accept)."""
    eps, tr = [[]], [[]]
    final = _nfa_build(eps, tr, sre_parse.parse(pattern), 0)

    def closure(states):
        stack, seen = list(states), set(states)
        while stack:
            x = stack.pop()
            for y in eps[x]:
                if y not in seen:
                    seen.add(y)
                    stack.append(y)
        return frozenset(seen)
    start = closure({0})
    idx, queue, trans, acc = {start: 0}, [start], [], []
    while len(trans) < len(queue):
        S = queue[len(trans)]
        row = []
        for d in DIGITS:
            T = {y for x in S for cs, y in tr[x] if d in cs}
            if not T:
                row.append(-1)
                continue
            T = closure(T)
            if T not in idx:
                idx[T] = len(queue)
                queue.append(T)
            row.append(idx[T])
        trans.append(row)
        acc.append(final in S)
    # Moore minimisation (dead state = -1 stays implicit)
    part = [1 if a else 0 for a in acc]
    nclass = len(set(part))
    while True:
        sig, new = {}, []
        for i, row in enumerate(trans):
            k = (part[i], tuple(part[j] if j >= 0 else -1 for j in row))
            new.append(sig.setdefault(k, len(sig)))
        part = new
        if len(sig) == nclass:
            break
        nclass = len(sig)
    # renumber so that the start state is 0
    order = {part[0]: 0}
    for p_ in part:
        if p_ not in order:
            order[p_] = len(order)
    n = len(order)
    mtrans = [None] * n
    macc = [False] * n
    for i, row in enumerate(trans):
        c = order[part[i]]
        if mtrans[c] is None:
            mtrans[c] = [order[part[j]] if j >= 0 else -1 for j in row]
            macc[c] = acc[i]
    return mtrans, macc


def emit_dfa(pattern):
    trans, acc = build_dfa(pattern)
    if len(trans) > 255:
        raise ValueError('DFA with %d states does not fit uint8' % len(trans))
    off = len(dfa_bytes) // 11
    for row, a in zip(trans, acc):
        dfa_bytes.extend(0xff if t < 0 else t for t in row)
        dfa_bytes.append(1 if a else 0)
    dfa_stats['patterns'] += 1
    dfa_stats['states'] += len(trans)
    dfa_stats['max'] = max(dfa_stats['max'], len(trans))
    return off


class Pool:
    def __init__(self):
        self.buf = bytearray()
        self.idx = {}

    def add(self, s):
        if s in self.idx:
            return self.idx[s]
        off = len(self.buf)
        self.buf += s.encode('ascii') + b'\0'
        self.idx[s] = off
        return off


pool = Pool()
patterns = []      # list of (pool offset, kind, dfa state offset)
pattern_idx = {}   # (ere, kind) -> id
stats = {'src_patterns': 0}


def pat_id(src, kind):
    if src is None or src == '':
        return -1, []
    stats['src_patterns'] += 1
    ere, capmap = translate(src)
    if kind == KIND_FULL:
        ere = '^(' + ere + ')$'
    else:
        ere = '^(' + ere + ')'
    capmap = [g + 1 for g in capmap]   # wrapper group shifts everything by 1
    key = (ere, kind)
    if key not in pattern_idx:
        pattern_idx[key] = len(patterns)
        if DFA_MODE and kind != KIND_NPP:
            patterns.append(('PE_NONE', kind, '%du' % emit_dfa(src)))
        else:
            patterns.append(('%du' % pool.add(ere), kind, 'PE_NONE'))
    return pattern_idx[key], capmap


def lenmask(lengths):
    """bit 0 = 'list non-empty' (so that (-1,) = no possible length is
    representable), bit n = length n is possible."""
    m = 0
    for l in lengths:
        m |= 1
        if l > 0:
            if l > 30:
                raise ValueError('length %d too large' % l)
            m |= 1 << l
    return m


def transform_rule(rule, capmap):
    """python '\\N' -> bytes: literal digits, and 0x01..0x1f = ERE group no."""
    if rule is None or rule == '':
        return None
    out = []
    i = 0
    while i < len(rule):
        if rule[i] == '\\':
            g = int(rule[i + 1])
            out.append(chr(capmap[g - 1]))
            i += 2
        else:
            out.append(rule[i])
            i += 1
    return ''.join(out)


def region_entry(rid, m):
    d = []
    for name in DESCS:
        desc = getattr(m, name)
        if desc is None:
            d.append('{-1, 0, 0, 0}')
            continue
        pid, _ = pat_id(desc.national_number_pattern, KIND_FULL)
        d.append('{%d, 1, 0x%xu, 0x%xu}' % (pid, lenmask(desc.possible_length),
                                            lenmask(desc.possible_length_local_only)))
    ld, _ = pat_id(m.leading_digits, KIND_PREFIX)
    npp, capmap = pat_id(m.national_prefix_for_parsing, KIND_NPP)
    npt = transform_rule(m.national_prefix_transform_rule, capmap)
    last_group = capmap[-1] if capmap else 0
    return ('\t{"%s", %d, %d, %d, %d, %d, %s, %d,\n\t\t{%s}}'
            % (rid, m.country_code, 1 if m.main_country_for_code else 0,
               1 if m.same_mobile_and_fixed_line_pattern else 0,
               ld, npp,
               ('%du' % pool.add(npt)) if npt is not None else 'PE_NONE',
               last_group, ',\n\t\t'.join(d)))


def main():
    regions = []   # (id, metadata)
    index = {}
    for r in sorted(phonenumbers.SUPPORTED_REGIONS):
        index[r] = len(regions)
        regions.append((r, PhoneMetadata.metadata_for_region(r)))
    nongeo = {}
    for cc in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        nongeo[cc] = len(regions)
        regions.append(('001', PhoneMetadata.metadata_for_nongeo_region(cc)))

    entries = [region_entry(rid, m) for rid, m in regions]

    # country code -> ordered region list (python's COUNTRY_CODE_TO_REGION_CODE order)
    cclist = []
    ccregs = []
    for cc in sorted(pu.COUNTRY_CODE_TO_REGION_CODE):
        regs = pu.COUNTRY_CODE_TO_REGION_CODE[cc]
        first = len(ccregs)
        for r in regs:
            ccregs.append(nongeo[cc] if r == '001' else index[r])
        cclist.append((cc, first, len(regs)))
    ccidx = [-1] * 1000
    for i, (cc, _, _) in enumerate(cclist):
        ccidx[cc] = i

    base = sys.argv[1] if len(sys.argv) > 1 else 'src/core/pe_phone_tables'
    name = base.split('/')[-1]
    version = phonenumbers.__version__

    h = open(base + '.h', 'w')
    h.write('''/*-------------------------------------------------------------------------
 *
 * %(path)s.h
 *		libphonenumber's metadata as tables (pe_phone.c reads them).
 *
 * GENERATED by test/tools/gen_phone_tables.py from python3-phonenumbers
 * %(version)s: do not edit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PE_PHONE_TABLES_H
#define PE_PHONE_TABLES_H

#include <stdint.h>

#define PE_PH_NPATTERNS %(npat)d
#define PE_PH_NREGIONS %(nreg)d
#define PE_PH_NCODES %(ncc)d
#define PE_PH_NONE 0xffffffffu

/* what a pattern matches: the whole number, a prefix, a national prefix */
enum
{
	PE_PH_FULL,
	PE_PH_PREFIX,
	PE_PH_NATIONAL_PREFIX
};

/* the number descriptions of a region, in this order */
enum
{
	PE_PH_GENERAL,
	PE_PH_FIXED_LINE,
	PE_PH_MOBILE,
	PE_PH_TOLL_FREE,
	PE_PH_PREMIUM_RATE,
	PE_PH_SHARED_COST,
	PE_PH_PERSONAL_NUMBER,
	PE_PH_VOIP,
	PE_PH_PAGER,
	PE_PH_UAN,
	PE_PH_VOICEMAIL,
	PE_PH_NDESCS
};

/* A pattern: a DFA (first state in pe_ph_dfa) or an ERE (in pe_ph_pool). */
typedef struct PePhPattern
{
	uint32_t	ere;			/* offset in pe_ph_pool, or PE_PH_NONE */
	uint32_t	kind;			/* PE_PH_FULL, ... */
	uint32_t	dfa;			/* first state, or PE_PH_NONE */
} PePhPattern;

/* A number description; lengths: bit 0 "has a list", bit n "n digits". */
typedef struct PePhDesc
{
	int16_t		pattern;		/* national-number pattern, or -1 */
	uint8_t		present;
	uint32_t	lengths;
	uint32_t	local_lengths;	/* possible only for local dialling */
} PePhDesc;

typedef struct PePhRegion
{
	char		id[4];			/* "GB"; "001" for non-geographic codes */
	uint16_t	code;
	uint8_t		main_country;
	uint8_t		same_mobile_fixed;
	int16_t		leading_digits; /* pattern, or -1 */
	int16_t		national_prefix;	/* for parsing: pattern, or -1 */
	uint32_t	transform;		/* its rule in the pool (bytes < 32: group) */
	uint8_t		last_group;		/* ERE group of the rule's last group */
	PePhDesc	desc[PE_PH_NDESCS];
} PePhRegion;

/* A calling code and its regions (pe_ph_code_regions[first .. first+n-1]) */
typedef struct PePhCode
{
	uint16_t	code;
	uint16_t	first;
	uint16_t	n;
} PePhCode;

extern const char pe_ph_pool[];
extern const uint8_t pe_ph_dfa[];
extern const PePhPattern pe_ph_patterns[PE_PH_NPATTERNS];
extern const PePhRegion pe_ph_regions[PE_PH_NREGIONS];
extern const PePhCode pe_ph_codes[PE_PH_NCODES];
extern const uint16_t pe_ph_code_regions[];
extern const int16_t pe_ph_code_index[1000];	/* calling code -> pe_ph_codes, or -1 */

#endif							/* PE_PHONE_TABLES_H */
''' % {'path': base, 'version': version, 'npat': len(patterns), 'nreg': len(regions),
       'ncc': len(cclist)})
    h.close()

    o = open(base + '.c', 'w')
    o.write('''/*-------------------------------------------------------------------------
 *
 * %s.c
 *		libphonenumber's metadata as tables (see %s.h).
 *
 * GENERATED by test/tools/gen_phone_tables.py from python3-phonenumbers
 * %s: do not edit.
 *
 *-------------------------------------------------------------------------
 */
#include "%s.h"

''' % (base, name, version, name))
    o.write('const char pe_ph_pool[%d] =\n' % (len(pool.buf) + 1))
    s = pool.buf.decode('ascii')
    chunk = []
    line = ''
    for ch in s:
        if ch == '\0':
            e = '\\000'
        elif ch == '\\':
            e = '\\\\'
        elif ch == '"':
            e = '\\"'
        elif ord(ch) < 32:
            e = '\\%03o' % ord(ch)
        else:
            e = ch
        line += e
        if len(line) > 70:
            chunk.append('\t"%s"' % line)
            line = ''
    if line:
        chunk.append('\t"%s"' % line)
    o.write('\n'.join(chunk) + ';\n\n')
    o.write('const PePhPattern pe_ph_patterns[PE_PH_NPATTERNS] = {\n')
    o.write(',\n'.join('\t{%s, %d, %s}' % (p[0].replace('PE_NONE', 'PE_PH_NONE'), p[1],
                                             p[2].replace('PE_NONE', 'PE_PH_NONE')) for p in patterns))
    o.write('\n};\n\n')
    o.write('const uint8_t pe_ph_dfa[%d] = {' % max(1, len(dfa_bytes)))
    for i in range(0, len(dfa_bytes), 22):
        o.write('\n\t' + ', '.join(str(b) for b in dfa_bytes[i:i + 22]) + ',')
    o.write('\n};\n\n')
    o.write('const PePhRegion pe_ph_regions[PE_PH_NREGIONS] = {\n')
    o.write(',\n'.join(e.replace('PE_NONE', 'PE_PH_NONE') for e in entries))
    o.write('\n};\n\n')
    o.write('const PePhCode pe_ph_codes[PE_PH_NCODES] = {\n')
    o.write(',\n'.join('\t{%d, %d, %d}' % c for c in cclist))
    o.write('\n};\n\n')
    o.write('const uint16_t pe_ph_code_regions[%d] = {\n' % len(ccregs))
    for i in range(0, len(ccregs), 16):
        o.write('\t' + ', '.join(str(x) for x in ccregs[i:i + 16]) + ',\n')
    o.write('};\n\n')
    o.write('const int16_t pe_ph_code_index[1000] = {\n')
    for i in range(0, 1000, 20):
        o.write('\t' + ', '.join(str(x) for x in ccidx[i:i + 20]) + ',\n')
    o.write('};\n')
    o.close()
    sys.stderr.write('%s.[ch]: %d regions, %d calling codes, %d patterns (%d DFA states, '
                     'at most %d a pattern), pool %d bytes\n'
                     % (base, len(regions), len(cclist), len(patterns), dfa_stats['states'],
                        dfa_stats['max'], len(pool.buf)))


if __name__ == '__main__':
    main()
