#!/usr/bin/python3
"""
test/tools/gen_phone_cases.py -- generate test/unit/phone_cases.tsv

The cases the unit test checks the phone rule of the core against
(src/core/pe_phone.c), with python3-phonenumbers -- the same metadata the
tables come from (test/tools/gen_phone_tables.py) -- as the oracle:

  /usr/bin/python3 test/tools/gen_phone_cases.py > test/unit/phone_cases.tsv

TSV: category, input, status, e164, region, type
  status: ok | invalid | parse_error | bad_format
Categories:
  example   metadata example number per region x type, INTERNATIONAL format
  trunk     same with the national prefix inserted after the calling code: +44 (0)20 ...
  dd00      same as example, written 0044-20-... (00 + dashes)
  nongeo    non-geographic entities' example numbers (every type present)
  invalid   'possible but invalid' numbers (digit mutations of an example)
  fuzz      random digit strings of possible lengths behind each calling code
            (+ half of them with the trunk prefix); oracle decides
  manual    hand-written cases from the brief and edge cases
"""
import random
import sys
import phonenumbers as pn
from phonenumbers import PhoneNumberType as T, PhoneNumberFormat as F
from phonenumbers.phonemetadata import PhoneMetadata
from phonenumbers import phonenumberutil as pu

TYPES = [T.FIXED_LINE, T.MOBILE, T.FIXED_LINE_OR_MOBILE, T.TOLL_FREE, T.PREMIUM_RATE,
         T.SHARED_COST, T.VOIP, T.PERSONAL_NUMBER, T.PAGER, T.UAN, T.VOICEMAIL]
TNAME = {T.FIXED_LINE: 'fixed_line', T.MOBILE: 'mobile',
         T.FIXED_LINE_OR_MOBILE: 'fixed_line_or_mobile', T.TOLL_FREE: 'toll_free',
         T.PREMIUM_RATE: 'premium_rate', T.SHARED_COST: 'shared_cost', T.VOIP: 'voip',
         T.PERSONAL_NUMBER: 'personal_number', T.PAGER: 'pager', T.UAN: 'uan',
         T.VOICEMAIL: 'voicemail', T.UNKNOWN: 'unknown'}
DESCS = ['fixed_line', 'mobile', 'toll_free', 'premium_rate', 'shared_cost',
         'personal_number', 'voip', 'pager', 'uan', 'voicemail']


def normalize(s):
    """What pe_phone_parse reads: separators dropped, + or 00 first."""
    out = []
    for ch in s:
        if ch in ' -./()':
            continue
        if ch == '+':
            if out:
                return None, 'bad_format'
        elif not ('0' <= ch <= '9'):
            return None, 'bad_format'
        out.append(ch)
    t = ''.join(out)
    if t.startswith('00'):
        t = '+' + t[2:]
    if not t.startswith('+'):
        return None, 'bad_format'
    return t, None


def oracle(s):
    t, err = normalize(s)
    if err:
        return (err, '', '', '')
    try:
        num = pn.parse(t, None)
    except pn.NumberParseException:
        return ('parse_error', '', '', '')
    if not pn.is_valid_number(num):
        return ('invalid', '', '', '')
    return ('ok', pn.format_number(num, F.E164), pn.region_code_for_number(num),
            TNAME[pn.number_type(num)])


rows = []
seen = set()


def add(cat, s):
    if (cat, s) in seen:
        return
    seen.add((cat, s))
    rows.append((cat, s) + oracle(s))


def trunk_variant(intl, cc, np):
    rest = intl[len('+%d' % cc):].lstrip()
    return '+%d (%s)%s' % (cc, np, rest)


def main():
    rnd = random.Random(12345)
    regions = sorted(pn.SUPPORTED_REGIONS)
    for r in regions:
        m = PhoneMetadata.metadata_for_region(r)
        for t in TYPES:
            ex = pn.example_number_for_type(r, t)
            if ex is None:
                continue
            intl = pn.format_number(ex, F.INTERNATIONAL)
            add('example', intl)
            add('dd00', '00' + intl[1:].replace(' ', '-'))
            if m.national_prefix:
                add('trunk', trunk_variant(intl, m.country_code, m.national_prefix))
    for cc in sorted(pn.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        ex = pn.example_number_for_non_geo_entity(cc)
        if ex is not None:
            add('nongeo', pn.format_number(ex, F.INTERNATIONAL))
        m = PhoneMetadata.metadata_for_nongeo_region(cc)
        for d in DESCS:
            desc = getattr(m, d)
            if desc is not None and desc.example_number:
                num = pn.parse('+%d%s' % (cc, desc.example_number), None)
                add('nongeo', pn.format_number(num, F.INTERNATIONAL))

    # possible-but-invalid: mutate digits of an example until possible && !valid
    for r in regions:
        base = pn.example_number_for_type(r, T.FIXED_LINE) or pn.example_number(r)
        if base is None:
            for t in TYPES:
                base = pn.example_number_for_type(r, t)
                if base:
                    break
        if base is None:
            continue
        nsn = pu.national_significant_number(base)
        cc = base.country_code
        found = 0
        cands = []
        for pos in range(len(nsn)):
            for dgt in '0123456789':
                if dgt != nsn[pos]:
                    cands.append(nsn[:pos] + dgt + nsn[pos + 1:])
        # also shorter / longer versions
        cands += [nsn[:-1], nsn + '0', nsn + '1']
        rnd.shuffle(cands)
        for c in cands:
            s = '+%d%s' % (cc, c)
            try:
                num = pn.parse(s, None)
            except pn.NumberParseException:
                continue
            if pn.is_possible_number(num) and not pn.is_valid_number(num):
                add('invalid', '+%d %s' % (cc, c))
                found += 1
                if found >= 3:
                    break

    # fuzz: random digit strings of the region's possible lengths
    for r in regions:
        m = PhoneMetadata.metadata_for_region(r)
        lens = [l for l in m.general_desc.possible_length if l > 0] or [8]
        for i in range(12):
            L = rnd.choice(lens)
            ex = pn.example_number_for_type(r, TYPES[i % 2]) or pn.example_number(r)
            first = pu.national_significant_number(ex)[:rnd.choice([0, 1, 2, 3])] if ex else ''
            digits = (first + ''.join(rnd.choice('0123456789') for _ in range(L)))[:L]
            s = '+%d %s' % (m.country_code, digits)
            if i % 3 == 2 and m.national_prefix:
                s = '+%d (%s) %s' % (m.country_code, m.national_prefix, digits)
            add('fuzz', s)

    manual = [
        '+44 (0)20 7946 0958', '+44 20 7946 0958', '0044 20 7946 0958',
        '+1 212 555 0123', '+1 (212) 736-5000', '+1 416 555 0199', '+1 416-979-1234',
        '+44 1534 456789', '+44 1624 456789', '+44 1481 256789',
        '+7 701 123 4567', '+7 495 123 4567', '+7 (8) 495 123 4567',
        '+39 06 6982 1234', '+39 06 698', '+379 06 698 12345',
        '+54 9 11 1234 5678', '+54 0 11 15 1234 5678', '+54 (0) 351 15 123 4567',
        '+55 0 21 2345 6789', '+55 021 98765 4321', '+55 0 15 21 98765 4321',
        '+241 06 03 12 34', '+241 0 6 03 12 34', '+672 3 12345', '+672 12345',
        '+378 0549 123456', '+378 812345', '+261 20 21 234 56', '+261 21 234 56',
        '+800 1234 5678', '+882 13 123 4567', '+979 1 234 5678', '+870 301 234 567',
        '', '+', '+1', '+12', '+999 123 456', '+0 123 456 789', '00', '0044',
        '+44 20 7946 0958 ext 12', '+1 800 FLOWERS', 'tel:+44207946095',
        '+44 20 7946 0958 0000 0000 0000', '+4420794609581234567890',
        '44 20 7946 0958', '+44-20-7946-0958', '+44.20.7946.0958', '+44/20/7946/0958',
        '+44 + 20', '+1 684 733 1234', '+1 (1) 212 736 5000', '+61 8 9162 1234',
        '+61 (0)8 9164 1234', '+47 79 12 34 56', '+358 18 12345', '+590 590 27 12 34',
        '+599 7 123 456', '+212 528 81 2345', '+262 269 60 1234', '+290 8 1234',
        '+7 7', '+7 70', '+44 0', '+44 00', '+44 (0)', '+86 010 1234 5678',
        '+49 (0)30 1234567', '+33 (0)1 23 45 67 89', '+31 (0)20 123 4567',
    ]
    for s in manual:
        add('manual', s)

    w = sys.stdout
    for row in rows:
        assert '\t' not in row[1] and '\n' not in row[1]
        w.write('\t'.join(row) + '\n')
    cnt = {}
    for row in rows:
        cnt.setdefault(row[0], {}).setdefault(row[2], 0)
        cnt[row[0]][row[2]] += 1
    sys.stderr.write('%d cases %r\n' % (len(rows), cnt))


main()
