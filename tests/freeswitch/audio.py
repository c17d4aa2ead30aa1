"""Test audio for the sipp far ends: G.711 u-law RTP in pcap files, and analysis of recordings.

espeak-ng speaks, sox resamples and encodes to u-law; this module only frames the encoded bytes
as RTP/UDP/IPv4/Ethernet packets in a classic pcap file that sipp's ``play_pcap_audio`` replays.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np

SAMPLE_RATE = 8000
FRAME_SAMPLES = 160  # 20 ms of G.711
PCMU_PAYLOAD_TYPE = 0
ULAW_SILENCE = b"\xff"  # one u-law sample of digital silence

_PCAP_GLOBAL_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # Ethernet
_ETHERNET_HEADER = bytes(6) + bytes(6) + struct.pack("!H", 0x0800)


def speech_ulaw(text: str, workdir: Path, lead_silence_s: float = 0.0) -> bytes:
    """Raw 8 kHz u-law bytes of espeak-ng saying *text*, after *lead_silence_s* of silence."""
    wav = workdir / "espeak.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), text], check=True, capture_output=True)
    return _sox_to_ulaw([str(wav)], ["pad", f"{lead_silence_s:.3f}", "0"])


def tone_ulaw(frequency_hz: float, seconds: float) -> bytes:
    """Raw 8 kHz u-law bytes of a sine tone at half scale."""
    return _sox_to_ulaw(["-n"], ["synth", f"{seconds:.3f}", "sine", f"{frequency_hz:g}", "vol", "0.5"])


def _sox_to_ulaw(inputs: list[str], effects: list[str]) -> bytes:
    out = subprocess.run(
        ["sox", *inputs, "-r", str(SAMPLE_RATE), "-c", "1", "-e", "u-law", "-b", "8", "-t", "raw", "-", *effects],
        check=True,
        capture_output=True,
    )
    return out.stdout


def write_rtp_pcap(ulaw: bytes, path: Path, ssrc: int = 0x5EED0001) -> Path:
    """Write *ulaw* as 20 ms PCMU RTP packets (127.0.0.1:40000 -> :40002) into a pcap file."""
    frames = [ulaw[i : i + FRAME_SAMPLES] for i in range(0, len(ulaw), FRAME_SAMPLES)]
    with path.open("wb") as out:
        out.write(_PCAP_GLOBAL_HEADER)
        for seq, frame in enumerate(frames):
            frame = frame.ljust(FRAME_SAMPLES, ULAW_SILENCE)
            rtp = struct.pack("!BBHII", 0x80, PCMU_PAYLOAD_TYPE, seq, seq * FRAME_SAMPLES, ssrc) + frame
            packet = _ETHERNET_HEADER + _ipv4_udp(rtp, 40000, 40002)
            micros = seq * 20_000
            out.write(struct.pack("<IIII", micros // 1_000_000, micros % 1_000_000, len(packet), len(packet)))
            out.write(packet)
    return path


def _ipv4_udp(payload: bytes, sport: int, dport: int) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    loopback = bytes([127, 0, 0, 1])
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, loopback, loopback)
    checksum = _ones_complement_sum(header)
    return header[:10] + struct.pack("!H", checksum) + header[12:] + udp


def _ones_complement_sum(data: bytes) -> int:
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def rms(samples: np.ndarray) -> float:
    """Root mean square of int16 samples, as a fraction of full scale."""
    if samples.size == 0:
        return 0.0
    return float(np.sqrt(np.mean((samples.astype(np.float64) / 32768.0) ** 2)))


def band_energy_ratio(samples: np.ndarray, rate: int, centre_hz: float, width_hz: float = 60.0) -> float:
    """Share of the signal's spectral energy within +-width_hz of centre_hz (0..1)."""
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1.0 / rate)
    total = spectrum.sum()
    if total == 0:
        return 0.0
    band = spectrum[(freqs > centre_hz - width_hz) & (freqs < centre_hz + width_hz)].sum()
    return float(band / total)
