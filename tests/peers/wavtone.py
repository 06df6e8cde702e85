#!/usr/bin/env python3
"""wavtone.py - tests/netns.sh's audio, stdlib only.

  wavtone.py make FILE HZ SECONDS   write a 16-bit mono 8 kHz sine (amplitude 8000)
  wavtone.py hz FILE                print the loudest stretch's tone and level:
                                    "HZ RMS SECONDS" (zero crossings over the
                                    samples louder than a quarter of the peak;
                                    "0 0 0" for silence)
"""
import math
import struct
import sys
import wave


def make(path, hz, secs):
    rate = 8000
    n = int(rate * secs)
    frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / rate))) for i in range(n))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def analyse(path):
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            sys.exit("wavtone: %s: not 16-bit" % path)
        ch, rate = w.getnchannels(), w.getframerate()
        raw = w.readframes(w.getnframes())
    s = struct.unpack("<%dh" % (len(raw) // 2), raw)[::ch]
    # 20 ms blocks; keep those louder than a quarter of the loudest one
    blk = rate // 50
    blocks = [s[i:i + blk] for i in range(0, len(s) - blk + 1, blk)]
    rms = [math.sqrt(sum(x * x for x in b) / blk) for b in blocks]
    if not rms or max(rms) < 50:
        print("0 0 0")
        return
    loud = [b for b, r in zip(blocks, rms) if r >= max(rms) / 4]
    cross = sum(sum(1 for a, c in zip(b, b[1:]) if (a < 0) != (c < 0)) for b in loud)
    secs = len(loud) * blk / rate
    level = math.sqrt(sum(r * r for r in rms if r >= max(rms) / 4) / len(loud))
    print("%d %d %.2f" % (round(cross / 2 / secs), round(level), secs))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "make":
        make(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
    elif len(sys.argv) == 3 and sys.argv[1] == "hz":
        analyse(sys.argv[2])
    else:
        sys.exit(__doc__)
