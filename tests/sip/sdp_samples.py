"""SDP offers in the style of real phones, written for these tests (not captured traffic).

Each keeps the quirks its family is known for: baresip's opus first and rtcp-mux, Linphone's
telephone-event at three clock rates, a static PCMU without rtpmap and a video stream,
Yealink's LF-only lines with a G.729 entry, Polycom's session-level direction and
G.722.1 on a dynamic payload type with telephone-event on 127.
"""

from __future__ import annotations


def crlf(text: str) -> bytes:
    return text.strip("\n").replace("\n", "\r\n").encode() + b"\r\n"


BARESIP = crlf(
    """
v=0
o=- 1718033154 1718033155 IN IP4 192.168.1.20
s=-
c=IN IP4 192.168.1.20
t=0 0
m=audio 10000 RTP/AVP 96 97 9 0 8 101
b=AS:128
a=rtpmap:96 opus/48000/2
a=fmtp:96 stereo=1;sprop-stereo=1
a=rtpmap:97 L16/16000
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=rtcp-mux
a=sendrecv
a=label:1
a=ssrc:2863543211 cname:b6e1b4c2@baresip
"""
)

LINPHONE = crlf(
    """
v=0
o=alice 3011 3855 IN IP4 10.0.0.7
s=Talk
c=IN IP4 10.0.0.7
t=0 0
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
a=record:off
m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100
a=rtpmap:96 opus/48000/2
a=fmtp:96 useinbandfec=1
a=rtpmap:97 speex/16000
a=fmtp:97 vbr=on
a=rtpmap:98 speex/8000
a=fmtp:98 vbr=on
a=fmtp:18 annexb=yes
a=rtpmap:101 telephone-event/48000
a=rtpmap:99 telephone-event/16000
a=rtpmap:100 telephone-event/8000
a=rtcp:7079
a=rtcp-fb:* trr-int 1000
a=rtcp-fb:* ccm tmmbr
m=video 9078 RTP/AVP 96
a=rtpmap:96 VP8/90000
a=rtcp-fb:* ccm fir
"""
)

# LF-only line endings and trailing blanks, as some firmware sends them.
YEALINK = (
    b"v=0\n"
    b"o=- 20029 20029 IN IP4 192.168.0.101\n"
    b"s=SDP data \n"
    b"c=IN IP4 192.168.0.101\n"
    b"t=0 0\n"
    b"m=audio 11780 RTP/AVP 0 8 9 18 101\n"
    b"a=rtpmap:0 PCMU/8000\n"
    b"a=rtpmap:8 PCMA/8000\n"
    b"a=rtpmap:9 G722/8000\n"
    b"a=rtpmap:18 G729/8000\n"
    b"a=fmtp:18 annexb=no\n"
    b"a=ptime:20  \n"
    b"a=sendrecv\n"
    b"a=rtpmap:101 telephone-event/8000\n"
    b"a=fmtp:101 0-15\n"
)

POLYCOM = crlf(
    """
v=0
o=- 1702543521 1702543521 IN IP4 172.16.5.33
s=Polycom IP Phone
c=IN IP4 172.16.5.33
t=0 0
a=sendrecv
m=audio 2226 RTP/AVP 9 102 0 8 127
a=rtpmap:9 G722/8000
a=rtpmap:102 G7221/16000
a=fmtp:102 bitrate=32000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:127 telephone-event/8000
"""
)

# Polycom-style hold: the session-level direction changes, o= version goes up.
POLYCOM_HOLD = POLYCOM.replace(b"1702543521 1702543521", b"1702543521 1702543522").replace(
    b"a=sendrecv", b"a=sendonly"
)

# RFC 2543 hold, still sent by older gateways: null connection address, no direction.
RFC2543_HOLD = crlf(
    """
v=0
o=gw 5 6 IN IP4 10.1.1.1
s=session
c=IN IP4 0.0.0.0
t=0 0
m=audio 30000 RTP/AVP 8 0
"""
)

SRTP_ONLY = crlf(
    """
v=0
o=- 1 1 IN IP4 10.2.2.2
s=-
c=IN IP4 10.2.2.2
t=0 0
m=audio 5004 RTP/SAVP 0 8
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz
"""
)

SAMPLES = {"baresip": BARESIP, "linphone": LINPHONE, "yealink": YEALINK, "polycom": POLYCOM}
