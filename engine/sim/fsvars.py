"""The channel variables a sofia channel accumulates, stage by stage, as FreeSWITCH 1.11.1 sets them."""

from __future__ import annotations

import random
from datetime import datetime, timezone

SDP_LOCAL = ("v=0\r\no=FreeSWITCH {sess} {ver} IN IP4 127.0.0.1\r\ns=FreeSWITCH\r\nc=IN IP4 127.0.0.1\r\n"
             "t=0 0\r\nm=audio {port} RTP/AVP 102 9 0 8 103 101\r\na=rtpmap:102 opus/48000/2\r\n"
             "a=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
             "a=rtpmap:103 telephone-event/48000\r\na=rtpmap:101 telephone-event/8000\r\n"
             "a=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n")
SDP_REMOTE = ("v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
              "t=0 0\r\nm=audio {port} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
              "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n")

# Hangup cause name -> Q.850 code.
Q850 = {
    "NORMAL_CLEARING": 16, "USER_BUSY": 17, "NO_USER_RESPONSE": 18, "NO_ANSWER": 19,
    "CALL_REJECTED": 21, "UNALLOCATED_NUMBER": 1, "NORMAL_TEMPORARY_FAILURE": 41,
    "ORIGINATOR_CANCEL": 487, "USER_NOT_REGISTERED": 606, "DESTINATION_OUT_OF_ORDER": 27,
    "RECOVERY_ON_TIMER_EXPIRE": 102, "MANAGER_REQUEST": 503, "SUBSCRIBER_ABSENT": 20,
    "NETWORK_OUT_OF_ORDER": 38, "INVALID_NUMBER_FORMAT": 28, "CHAN_NOT_IMPLEMENTED": 66,
    "LOSE_RACE": 502, "ALLOTTED_TIMEOUT": 602, "MEDIA_TIMEOUT": 604, "SYSTEM_SHUTDOWN": 503,
    "NORMAL_UNSPECIFIED": 31, "NO_ROUTE_DESTINATION": 3, "BEARERCAPABILITY_NOTAVAIL": 58,
    "PICKED_OFF": 600, "BLIND_TRANSFER": 800, "ATTENDED_TRANSFER": 801, "CRASH": 700,
}

# SIP final response the far end sends for each failure cause (status, phrase).
SIP_FAILURES = {
    "USER_BUSY": (486, "Busy Here"), "CALL_REJECTED": (603, "Decline"),
    "UNALLOCATED_NUMBER": (404, "Not Found"), "NORMAL_TEMPORARY_FAILURE": (503, "Service Unavailable"),
    "NO_USER_RESPONSE": (480, "Temporarily Unavailable"),
}


def create_vars(uuid: str, name: str, user: str, host: str, session_id: int,
                media_port: int, custom: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Variables present at CHANNEL_CREATE (the originate's own variables among them)."""
    return [
        ("direction", "outbound"), ("is_outbound", "true"), ("uuid", uuid), ("call_uuid", uuid),
        ("session_id", str(session_id)), ("sip_local_network_addr", "127.0.0.1"),
        ("sip_profile_name", "internal"), ("video_media_flow", "disabled"),
        ("text_media_flow", "disabled"), ("channel_name", name),
        ("sip_destination_url", f"sip:{user}@{host}"),
        *custom,
        ("originate_early_media", "true"), ("originate_endpoint", "sofia"),
        ("rtp_use_codec_string", "OPUS,G722,PCMU,PCMA,H264,VP8"), ("local_media_ip", "127.0.0.1"),
        ("local_media_port", str(media_port)), ("advertised_media_ip", "127.0.0.1"),
        ("audio_media_flow", "sendrecv"),
        ("rtp_local_sdp_str", SDP_LOCAL.format(sess=1795398687, ver=1795398688, port=media_port)),
        ("sip_outgoing_contact_uri", "<sip:mod_sofia@127.0.0.1:5060>"),
        ("sip_req_uri", f"{user}@{host}"), ("sip_to_host", host), ("sip_from_host", "127.0.0.1"),
        ("sofia_profile_name", "internal"), ("recovery_profile_name", "internal"),
        ("sofia_profile_url", "sip:mod_sofia@127.0.0.1:5060"),
    ]


def _tag(rng: random.Random, n: int = 13) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789") for _ in range(n))


def progress_vars(user: str, host: str, far_port: int, caller_id: str, rng: random.Random,
                  call_id: str) -> list[tuple[str, str]]:
    """Variables learnt from the far end's first provisional response (180/183)."""
    branch = "z9hG4bK" + _tag(rng)
    return [
        ("sip_local_network_addr", "127.0.0.1"), ("sip_reply_host", "127.0.0.1"),
        ("sip_reply_port", str(far_port)), ("sip_network_ip", "127.0.0.1"),
        ("sip_network_port", str(far_port)),
        ("sip_recover_contact", f"<sip:127.0.0.1:{far_port};transport=UDP>"),
        ("sip_full_via", f"SIP/2.0/UDP 127.0.0.1;rport;branch={branch}"),
        ("sip_recover_via", f"SIP/2.0/UDP 127.0.0.1;rport;branch={branch}"),
        ("sip_full_from", f"<sip:{caller_id}@127.0.0.1>;tag={_tag(rng)}"),
        ("sip_full_to", f"<sip:{user}@{host}>;tag={_tag(rng)}"),
        ("sip_from_user", caller_id), ("sip_from_uri", f"{caller_id}@127.0.0.1"),
        ("sip_from_host", "127.0.0.1"), ("sip_to_user", user), ("sip_to_port", str(far_port)),
        ("sip_to_uri", f"{user}@{host}"), ("sip_to_host", "127.0.0.1"),
        ("sip_contact_params", "transport=UDP"), ("sip_contact_user", "nobody"),
        ("sip_contact_port", str(far_port)), ("sip_contact_uri", f"nobody@127.0.0.1:{far_port}"),
        ("sip_contact_host", "127.0.0.1"), ("sip_to_tag", _tag(rng)), ("sip_from_tag", _tag(rng)),
        ("sip_cseq", str(rng.randint(100_000_000, 999_999_999))), ("sip_call_id", call_id),
    ]


def refused_vars(cause: str, far_port: int, call_id: str) -> list[tuple[str, str]]:
    """Variables set when the far end refuses the INVITE with a final failure response."""
    status, phrase = SIP_FAILURES[cause]
    reached = cause != "NORMAL_TEMPORARY_FAILURE"
    port = str(far_port) if reached else "0"
    out = [("sip_call_id", call_id), ("sip_local_network_addr", "127.0.0.1")]
    if reached:
        out.append(("sip_reply_host", "127.0.0.1"))
    out.append(("sip_reply_port", port))
    if reached:
        out.append(("sip_network_ip", "127.0.0.1"))
    out += [("sip_network_port", port), ("sip_hangup_disposition", "recv_refuse"),
            ("sip_invite_failure_status", str(status)), ("sip_invite_failure_phrase", phrase),
            ("sip_term_status", str(status)), ("proto_specific_hangup_cause", f"sip:{status}"),
            ("sip_term_cause", str(Q850[cause]))]
    return out


def answer_vars(media_port: int, far_media_port: int, ssrc: int) -> list[tuple[str, str]]:
    """Variables set when the far end answers with SDP (PCMA negotiated)."""
    return [
        ("switch_r_sdp", SDP_REMOTE.format(port=far_media_port)),
        ("ep_codec_string", "CORE_PCM_MODULE.PCMA@8000h@20i@64000b"),
        ("rtp_use_codec_string", "OPUS,G722,PCMU,PCMA,H264,VP8"),
        ("remote_video_media_flow", "inactive"), ("remote_text_media_flow", "inactive"),
        ("remote_audio_media_flow", "sendrecv"), ("rtp_audio_recv_pt", "8"),
        ("rtp_use_codec_name", "PCMA"), ("rtp_use_codec_rate", "8000"),
        ("rtp_use_codec_ptime", "20"), ("rtp_use_codec_channels", "1"),
        ("rtp_last_audio_codec_string", "PCMA@8000h@20i@1c"), ("read_codec", "PCMA"),
        ("original_read_codec", "PCMA"), ("read_rate", "8000"), ("original_read_rate", "8000"),
        ("write_codec", "PCMA"), ("write_rate", "8000"), ("dtmf_type", "rfc2833"),
        ("local_media_ip", "127.0.0.1"), ("local_media_port", str(media_port)),
        ("advertised_media_ip", "127.0.0.1"), ("rtp_use_timer_name", "soft"), ("rtp_use_pt", "8"),
        ("rtp_use_ssrc", str(ssrc)), ("rtp_2833_send_payload", "101"),
        ("rtp_2833_recv_payload", "101"), ("remote_media_ip", "127.0.0.1"),
        ("remote_media_port", str(far_media_port)),
    ]


def first_execute_vars(caller_id: str) -> list[tuple[str, str]]:
    """Variables set when the answered leg starts its first application (caller id flipped)."""
    return [("endpoint_disposition", "ANSWER"), ("pre_transfer_caller_id_number", caller_id),
            ("channel_cid_flipped", "yes")]


def _stamp(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def cdr_vars(times: dict[str, int], cause: str, last_app: str | None, last_arg: str | None,
             caller_id: str, answered: bool) -> list[tuple[str, str]]:
    """The hangup variables: cause, stamps, epochs and durations (CHANNEL_HANGUP_COMPLETE)."""
    start = times["start"]
    end = times["end"]
    answer = times.get("answer", 0)
    progress = times.get("progress", 0)
    progress_media = times.get("progress_media", 0)
    bridge = times.get("bridge", 0)
    profile = times.get("profile", start)
    out = [("hangup_cause", cause), ("hangup_cause_q850", str(Q850.get(cause, 16))),
           ("digits_dialed", "none"), ("start_stamp", _stamp(start)),
           ("profile_start_stamp", _stamp(profile))]
    for key, value in (("answer", answer), ("bridge", bridge), ("progress", progress),
                       ("progress_media", progress_media)):
        if value:
            out.append((f"{key}_stamp", _stamp(value)))
    out.append(("end_stamp", _stamp(end)))
    epochs = [("start", start), ("profile_start", profile), ("answer", answer), ("bridge", bridge),
              ("last_hold", 0)]
    for key, value in epochs:
        out += [(f"{key}_epoch", str(value // 1_000_000)), (f"{key}_uepoch", str(value))]
    out += [("hold_accum_seconds", "0"), ("hold_accum_usec", "0"), ("hold_accum_ms", "0"),
            ("resurrect_epoch", "0"), ("resurrect_uepoch", "0")]
    for key, value in (("progress", progress), ("progress_media", progress_media), ("end", end)):
        out += [(f"{key}_epoch", str(value // 1_000_000)), (f"{key}_uepoch", str(value))]
    if last_app:
        out.append(("last_app", last_app))
    if last_arg:
        out.append(("last_arg", last_arg))
    out.append(("caller_id", f'"Outbound Call" <{caller_id}>' if answered else caller_id))
    spans = {
        "duration": end - start, "billsec": (end - answer) if answer else 0,
        "progresssec": (progress - start) if progress else 0,
        "answersec": (answer - start) if answer else 0,
        "waitsec": (bridge - start) if bridge else 0,
        "progress_mediasec": (progress_media - start) if progress_media else 0,
        "flow_billsec": end - start,
    }
    for unit, div in (("sec", 1_000_000), ("msec", 1000), ("usec", 1)):
        for key, value in spans.items():
            base = key[:-3]
            name = {"sec": key, "msec": f"{base}msec", "usec": f"{base}usec"}[unit]
            if key == "duration":
                name = {"sec": "duration", "msec": "mduration", "usec": "uduration"}[unit]
            out.append((name, str(value // div)))
    return out


def rtp_stats_vars(seconds: float) -> list[tuple[str, str]]:
    """RTP counters reported at hangup of an answered leg (20 ms PCMA packets)."""
    packets = int(seconds * 50)
    media = packets * 172
    stats = [
        ("rtp_audio_in_raw_bytes", media), ("rtp_audio_in_media_bytes", media),
        ("rtp_audio_in_packet_count", packets), ("rtp_audio_in_media_packet_count", packets),
        ("rtp_audio_in_skip_packet_count", 0), ("rtp_audio_in_jitter_packet_count", 0),
        ("rtp_audio_in_dtmf_packet_count", 0), ("rtp_audio_in_cng_packet_count", 0),
        ("rtp_audio_in_flush_packet_count", 0), ("rtp_audio_in_largest_jb_size", 0),
        ("rtp_audio_in_jitter_min_variance", "0.00"), ("rtp_audio_in_jitter_max_variance", "0.00"),
        ("rtp_audio_in_jitter_loss_rate", "0.00"), ("rtp_audio_in_jitter_burst_rate", "0.00"),
        ("rtp_audio_in_mean_interval", "20.00"), ("rtp_audio_in_flaw_total", 0),
        ("rtp_audio_in_quality_percentage", "100.00"), ("rtp_audio_in_mos", "4.50"),
        ("rtp_audio_out_raw_bytes", media), ("rtp_audio_out_media_bytes", media),
        ("rtp_audio_out_packet_count", packets), ("rtp_audio_out_media_packet_count", packets),
        ("rtp_audio_out_skip_packet_count", 0), ("rtp_audio_out_dtmf_packet_count", 0),
        ("rtp_audio_out_cng_packet_count", 0), ("rtp_audio_rtcp_packet_count", 0),
        ("rtp_audio_rtcp_octet_count", 0),
    ]
    return [(key, str(value)) for key, value in stats]
