#!/usr/bin/env python3
"""gen-tones.py — writes the ringback tones that <Dial ringTone="xx"> plays.

    python3 deploy/gen-tones.py OUTDIR     writes OUTDIR/<code>.wav for every code
    python3 deploy/gen-tones.py --list     prints the codes, one a line

One file per ringTone code of twilio-voice.md §2.1 (the same set as
twiml_ringtone in callctl/src/twiml.h; tests/unit/test_ringtone.c checks that
the two agree). Every file is 8000 Hz, 16-bit, mono PCM and holds exactly one
cadence cycle, starting with the first tone burst and ending with the last
silence, so that rtpengine's `play media` with `repeat-times` loops it without
a seam. Python 3 standard library only; the output is byte-for-byte
deterministic (no timestamps, no randomness).

Where the values come from
--------------------------
The ringback ("ring") entries of Asterisk's configs/samples/indications.conf.sample,
which mostly cite the ITU-T compilation "Various tones used in national
networks" (Supplement 2 to ITU-T E.180, tones-0203.pdf), plus the national
references Asterisk names: ACIF S002 (au), BT SIN 350 (uk), Telepermit TNA 102
(nz), IDA TS PSTN1 (sg), GOST 45-223-2001 (ru), Telefonica CTC (cl). Twilio's
ringTone list is exactly that file's country list. One deliberate change: jp
uses 400 Hz amplitude-modulated by 16 Hz (NTT's published ringback) where
Asterisk approximates it with 400+15 Hz.

Notation (Asterisk's): a cadence is "tone/ms,tone/ms,...". A tone is 0
(silence), f (a sine), f1+f2 (two sines, each at LEVEL_DBM0) or f*fm (f
amplitude-modulated by fm, depth AM_DEPTH unless the entry gives its own).

Level: each sine is LEVEL_DBM0 = -13 dBm0. For G.711, a full-scale sine is
+3.17 dBm0 (mu-law; +3.14 for A-law), so 0 dBm0 is a sine of peak
32767 * 10^(-3.17/20) in 16-bit linear PCM; -13 dBm0 is a peak of about 5093,
and the loudest file (two tones, or AM at 100 %) peaks near 10200 — no
clipping. Each burst has a 2 ms raised-cosine rise and fall (no clicks).
"""
import array
import math
import os
import sys
import wave

RATE = 8000
LEVEL_DBM0 = -13.0
FULL_SCALE_SINE_DBM0 = 3.17  # G.711 mu-law
AM_DEPTH = 0.9  # Asterisk's fixed modulation depth for f*fm
RAMP_MS = 2

# code: (cadence, AM depth or None)
TONES = {
    "at": ("420/1000,0/5000", None),  # Austria
    "au": ("413+438/400,0/200,413+438/400,0/2000", None),  # Australia, ACIF S002
    "bg": ("425/1000,0/4000", None),  # Bulgaria
    "br": ("425/1000,0/4000", None),  # Brazil
    "be": ("425/1000,0/3000", None),  # Belgium
    "ch": ("425/1000,0/4000", None),  # Switzerland
    "cl": ("400/1000,0/3000", None),  # Chile
    "cn": ("450/1000,0/4000", None),  # China
    "cz": ("425/1000,0/4000", None),  # Czech Republic
    "de": ("425/1000,0/4000", None),  # Germany
    "dk": ("425/1000,0/4000", None),  # Denmark
    "ee": ("425/1000,0/4000", None),  # Estonia
    "es": ("425/1500,0/3000", None),  # Spain
    "fi": ("425/1000,0/4000", None),  # Finland
    "fr": ("440/1500,0/3500", None),  # France
    "gr": ("425/1000,0/4000", None),  # Greece
    "hu": ("425/1250,0/3750", None),  # Hungary
    "il": ("414/1000,0/3000", None),  # Israel
    "in": ("400*25/400,0/200,400*25/400,0/2000", None),  # India
    "it": ("425/1000,0/4000", None),  # Italy
    "lt": ("425/1000,0/4000", None),  # Lithuania
    "jp": ("400*16/1000,0/2000", None),  # Japan (NTT: 400 Hz, 16 Hz modulated)
    "mx": ("425/1000,0/4000", None),  # Mexico
    "my": ("425/400,0/200,425/400,0/2000", None),  # Malaysia
    "nl": ("425/1000,0/4000", None),  # Netherlands
    "no": ("425/1000,0/4000", None),  # Norway
    "nz": ("400+450/400,0/200,400+450/400,0/2000", None),  # New Zealand, TNA 102
    "ph": ("425+480/1000,0/4000", None),  # Philippines
    "pl": ("425/1000,0/4000", None),  # Poland
    "pt": ("425/1000,0/5000", None),  # Portugal
    "ru": ("425/1000,0/4000", None),  # Russia, GOST 45-223-2001
    "se": ("425/1000,0/5000", None),  # Sweden
    "sg": ("425*24/400,0/200,425*24/400,0/2000", 1.0),  # Singapore, IDA: 100 % depth
    "th": ("420/1000,0/5000", None),  # Thailand
    "uk": ("400+450/400,0/200,400+450/400,0/2000", None),  # United Kingdom, BT SIN 350
    "us": ("440+480/2000,0/4000", None),  # United States / North America
    "us-old": ("420*40/2000,0/4000", None),  # United States circa 1950
    "tw": ("440+480/1000,0/2000", None),  # Taiwan
    "ve": ("425/1000,0/4000", None),  # Venezuela
    "za": ("400*33/400,0/200,400*33/400,0/2000", None),  # South Africa (Siemens)
}


def amplitude(dbm0):
    return 32767.0 * 10.0 ** ((dbm0 - FULL_SCALE_SINE_DBM0) / 20.0)


def parse_cadence(spec):
    """[(kind, freqs, ms)] with kind 'off', 'sum' or 'am'."""
    out = []
    for el in spec.split(","):
        tone, ms = el.split("/")
        ms = int(ms)
        if ms <= 0:
            raise ValueError("bad duration in %r" % spec)
        if tone == "0":
            out.append(("off", (), ms))
        elif "*" in tone:
            fc, fm = tone.split("*")
            out.append(("am", (float(fc), float(fm)), ms))
        else:
            out.append(("sum", tuple(float(f) for f in tone.split("+")), ms))
    if out[0][0] == "off" or out[-1][0] != "off":
        raise ValueError("a cadence must start with a tone and end with silence: %r" % spec)
    return out


def render(spec, depth):
    a = amplitude(LEVEL_DBM0)
    depth = AM_DEPTH if depth is None else depth
    ramp = RAMP_MS * RATE // 1000
    samples = array.array("h")
    for kind, freqs, ms in parse_cadence(spec):
        n = ms * RATE // 1000
        if kind == "off":
            samples.extend([0] * n)
            continue
        for i in range(n):
            t = i / RATE
            if kind == "sum":
                v = sum(math.sin(2 * math.pi * f * t) for f in freqs)
            else:
                fc, fm = freqs
                v = (1.0 + depth * math.sin(2 * math.pi * fm * t)) * math.sin(2 * math.pi * fc * t)
            # raised-cosine rise and fall over RAMP_MS
            k = min(i, n - 1 - i)
            if k < ramp:
                v *= 0.5 - 0.5 * math.cos(math.pi * (k + 0.5) / ramp)
            s = int(round(a * v))
            samples.append(max(-32768, min(32767, s)))
    return samples


def write_wav(path, samples):
    if sys.byteorder != "little":
        samples = array.array("h", samples)
        samples.byteswap()
    tmp = path + ".tmp"
    with wave.open(tmp, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    os.replace(tmp, path)


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        for code in sorted(TONES):
            print(code)
        return 0
    if len(argv) != 2 or argv[1].startswith("-"):
        print("usage: %s OUTDIR | --list" % argv[0], file=sys.stderr)
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    for code in sorted(TONES):
        spec, depth = TONES[code]
        write_wav(os.path.join(outdir, code + ".wav"), render(spec, depth))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
