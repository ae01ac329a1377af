package io.ctrack.engine.tcp;

import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.l4.L4Tracker;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.table.ConnEntry;
import io.ctrack.engine.timeout.TimeoutAttr;

import static io.ctrack.engine.packet.Protocols.TCP_ACK;
import static io.ctrack.engine.packet.Protocols.TCP_FIN;
import static io.ctrack.engine.packet.Protocols.TCP_PSH;
import static io.ctrack.engine.packet.Protocols.TCP_RST;
import static io.ctrack.engine.packet.Protocols.TCP_SYN;
import static io.ctrack.engine.packet.Protocols.TCP_URG;

/**
 * TCP window tracking as Open vSwitch does it ({@code tcp_conn_update}, itself derived from OpenBSD pf and Guido
 * van Rooij's "Real Stateful TCP Packet Filtering"). Each peer keeps the highest sequence it sent ({@code seqlo}),
 * the highest the other end allows it ({@code seqhi}), its largest unscaled window and its window scale. A segment
 * is valid when its last byte fits the receiver's window, it is at most one window old, and its ACK is within
 * a window of what the other side sent; a connection picked up mid-stream or closing gets a looser check.
 * <p>
 * Arithmetic is on 32-bit sequence numbers modulo 2^32, with Open vSwitch's integer widths (16-bit windows,
 * int skews), so that every packet gets the verdict Open vSwitch gives it.
 */
public final class TcpTracker implements L4Tracker
{
    /** A peer's window scale word: the option was seen. */
    public static final int WSCALE_FLAG = 0x80;
    /** A peer's window scale word: its scale is unknown (picked up mid-stream). */
    public static final int WSCALE_UNKNOWN = 0x40;
    /** A peer's window scale word: the shift. */
    public static final int WSCALE_MASK = 0x0F;
    private static final int MAX_WSCALE = 14;
    /** 1500 is pf's fudge factor for retransmitted fragments. */
    private static final int MAX_ACK_WINDOW = 0xFFFF + 1500;

    private static final int CLOSED = TcpState.CLOSED.ordinal();
    private static final int SYN_SENT = TcpState.SYN_SENT.ordinal();
    private static final int ESTABLISHED = TcpState.ESTABLISHED.ordinal();
    private static final int CLOSING = TcpState.CLOSING.ordinal();
    private static final int FIN_WAIT_2 = TcpState.FIN_WAIT_2.ordinal();
    private static final int TIME_WAIT = TcpState.TIME_WAIT.ordinal();

    /** SYN with RST or FIN; no SYN, ACK or RST; FIN, PSH or URG without ACK (pf's scrub checks). */
    static boolean invalidFlags(final int flags)
    {
        if ((flags & TCP_SYN) != 0)
        {
            if ((flags & (TCP_RST | TCP_FIN)) != 0)
            {
                return true;
            }
        }
        else if ((flags & (TCP_ACK | TCP_RST)) == 0)
        {
            return true;
        }
        return (flags & TCP_ACK) == 0 && (flags & (TCP_FIN | TCP_PSH | TCP_URG)) != 0;
    }

    @Override
    public boolean validNew(final CtRequest request)
    {
        final int flags = request.tcpFlags();
        // A SYN-ACK may not create a connection: either new (SYN) or already established, never half open.
        return !invalidFlags(flags) && !((flags & TCP_SYN) != 0 && (flags & TCP_ACK) != 0);
    }

    @Override
    public void create(final ConnEntry c, final CtRequest r, final long nowMs)
    {
        final int flags = r.tcpFlags();
        final int seq = r.tcpSeq();
        int seqHi = seq + r.tcpPayloadLength() + 1;
        final int wscale;
        if ((flags & TCP_SYN) != 0)
        {
            seqHi++;
            wscale = r.tcpWscale();
        }
        else
        {
            wscale = WSCALE_UNKNOWN;
            c.wscale(1, WSCALE_UNKNOWN);
        }
        c.wscale(0, wscale);
        int maxWin = Math.max(r.tcpWindow(), 1);
        if ((wscale & WSCALE_MASK) != 0)
        {
            maxWin = divRoundUp(maxWin, 1 << (wscale & WSCALE_MASK));
        }
        if ((flags & TCP_FIN) != 0)
        {
            seqHi++;
        }
        c.seqLo(0, seq);
        c.seqHi(0, seqHi);
        c.maxWin(0, maxWin);
        c.seqHi(1, 1);
        c.maxWin(1, 1);
        c.tcpState(0, SYN_SENT);
        c.tcpState(1, CLOSED);
        c.expireAfter(TimeoutAttr.TCP_SYN_SENT, nowMs);
    }

    @Override
    public int update(
        final ConnEntry c, final CtRequest r, final boolean reply, final long nowMs, final boolean sequenceCheck)
    {
        final int src = reply ? 1 : 0;
        final int dst = reply ? 0 : 1;
        final int flags = r.tcpFlags();
        int win = r.tcpWindow();
        final int payload = r.tcpPayloadLength();

        if (invalidFlags(flags))
        {
            return L4Tracker.invalid(EngineCounter.INVALID_TCP_FLAGS);
        }

        if ((flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
        {
            if (c.tcpState(dst) >= FIN_WAIT_2 && c.tcpState(src) >= FIN_WAIT_2)
            {
                c.tcpState(src, CLOSED);
                c.tcpState(dst, CLOSED);
                return NEW;
            }
            else if (c.tcpState(src) <= SYN_SENT)
            {
                c.tcpState(src, SYN_SENT);
                c.expireAfter(TimeoutAttr.TCP_SYN_SENT, nowMs);
                return VALID_NEW;
            }
        }

        int sws = 0;
        int dws = 0;
        final int srcWscale = c.wscale(src);
        final int dstWscale = c.wscale(dst);
        if ((srcWscale & WSCALE_FLAG) != 0 && (dstWscale & WSCALE_FLAG) != 0 && (flags & TCP_SYN) == 0)
        {
            sws = srcWscale & WSCALE_MASK;
            dws = dstWscale & WSCALE_MASK;
        }
        else if ((srcWscale & WSCALE_UNKNOWN) != 0 && (dstWscale & WSCALE_UNKNOWN) != 0 && (flags & TCP_SYN) == 0)
        {
            sws = MAX_WSCALE;
            dws = MAX_WSCALE;
        }

        int seq = r.tcpSeq();
        final int origSeq = seq;
        int ack = r.tcpAck();
        int end;
        boolean checkAckSkew = true;
        if (c.tcpState(src) < SYN_SENT)
        {
            // First packet from this end: set its state.
            end = seq + payload;
            if ((flags & TCP_SYN) != 0)
            {
                end++;
                if ((c.wscale(dst) & WSCALE_FLAG) != 0)
                {
                    final int wscale = r.tcpWscale();
                    c.wscale(src, wscale);
                    if ((wscale & WSCALE_FLAG) != 0)
                    {
                        // Remove the scale factor from the initial window.
                        sws = wscale & WSCALE_MASK;
                        win = divRoundUp(win, 1 << sws) & 0xFFFF;
                        dws = c.wscale(dst) & WSCALE_MASK;
                    }
                    else
                    {
                        // Fix up the other window (max_win is 16 bits wide), in case of a retransmitted SYN-ACK.
                        c.maxWin(dst, (c.maxWin(dst) << (c.wscale(dst) & WSCALE_MASK)) & 0xFFFF);
                        c.wscale(dst, 0);
                    }
                }
            }
            if ((flags & TCP_FIN) != 0)
            {
                end++;
            }
            c.seqLo(src, seq);
            c.tcpState(src, SYN_SENT);
            // May need to slide the window: seqhi may have been set by a connection picked up after establishment.
            final int allowance = Math.max(1, c.maxWin(dst) << dws);
            if (c.seqHi(src) == 1 || seqGeq(end + allowance, c.seqHi(src)))
            {
                c.seqHi(src, end + allowance);
                // Picking up a new connection or one already in place: be permissive about the ACK skew.
                checkAckSkew = false;
            }
            if (win > c.maxWin(src))
            {
                c.maxWin(src, win);
            }
        }
        else
        {
            end = seq + payload;
            if ((flags & TCP_SYN) != 0)
            {
                end++;
            }
            if ((flags & TCP_FIN) != 0)
            {
                end++;
            }
        }

        if ((flags & TCP_ACK) == 0)
        {
            // Let it pass the ACK skew check.
            ack = c.seqLo(dst);
        }
        else if (ack == 0 && (flags & (TCP_ACK | TCP_RST)) == (TCP_ACK | TCP_RST))
        {
            // Broken stacks send RST-ACK with ack 0.
            ack = c.seqLo(dst);
        }

        if (seq == end)
        {
            // Ease sequencing restrictions on segments without data.
            seq = c.seqLo(src);
            end = seq;
        }

        final int ackSkew = checkAckSkew ? c.seqLo(dst) - ack : 0;
        final int srcSeqLo = c.seqLo(src);
        if ((seqGeq(c.seqHi(src), end)
            && seqGeq(seq, srcSeqLo - (c.maxWin(dst) << dws))
            && ackSkew >= -MAX_ACK_WINDOW
            && ackSkew <= (MAX_ACK_WINDOW << sws)
            && ((flags & TCP_RST) == 0 || origSeq == srcSeqLo || origSeq == srcSeqLo + 1 || origSeq + 1 == srcSeqLo))
            || !sequenceCheck)
        {
            slide(c, src, dst, win, sws, end, ack);
            if ((flags & TCP_SYN) != 0 && c.tcpState(src) < SYN_SENT)
            {
                c.tcpState(src, SYN_SENT);
            }
            if ((flags & TCP_FIN) != 0 && c.tcpState(src) < CLOSING)
            {
                c.tcpState(src, CLOSING);
            }
            if ((flags & TCP_ACK) != 0)
            {
                if (c.tcpState(dst) == SYN_SENT)
                {
                    c.tcpState(dst, ESTABLISHED);
                }
                else if (c.tcpState(dst) == CLOSING)
                {
                    c.tcpState(dst, FIN_WAIT_2);
                }
            }
            if ((flags & TCP_RST) != 0)
            {
                c.tcpState(src, TIME_WAIT);
                c.tcpState(dst, TIME_WAIT);
            }
            c.expireAfter(timeoutFor(c.tcpState(src), c.tcpState(dst)), nowMs);
        }
        else if ((c.tcpState(dst) < SYN_SENT || c.tcpState(dst) >= FIN_WAIT_2 || c.tcpState(src) >= FIN_WAIT_2)
            && seqGeq(c.seqHi(src) + MAX_ACK_WINDOW, end)
            && seqGeq(seq, srcSeqLo - MAX_ACK_WINDOW))
        {
            // Shotgunned SYNs, a stream picked up after a restart or flush, or stray packets right after a close.
            // The expiration is not refreshed here, so a flood cannot keep the connection alive.
            slide(c, src, dst, win, sws, end, ack);
            if ((flags & TCP_FIN) != 0 && c.tcpState(src) < CLOSING)
            {
                c.tcpState(src, CLOSING);
            }
            if ((flags & TCP_RST) != 0)
            {
                c.tcpState(src, TIME_WAIT);
                c.tcpState(dst, TIME_WAIT);
            }
        }
        else
        {
            return L4Tracker.invalid(EngineCounter.INVALID_TCP_WINDOW);
        }
        return VALID;
    }

    /** Updates the sender's largest window and highest sequence, and slides what the receiver may send. */
    private static void slide(
        final ConnEntry c, final int src, final int dst, final int win, final int sws, final int end, final int ack)
    {
        if (c.maxWin(src) < win)
        {
            c.maxWin(src, win);
        }
        if (seqGt(end, c.seqLo(src)))
        {
            c.seqLo(src, end);
        }
        if (seqGeq(ack + (win << sws), c.seqHi(dst)))
        {
            c.seqHi(dst, ack + Math.max(win << sws, 1));
        }
    }

    private static TimeoutAttr timeoutFor(final int src, final int dst)
    {
        if (src >= FIN_WAIT_2 && dst >= FIN_WAIT_2)
        {
            return TimeoutAttr.TCP_CLOSE;
        }
        if (src >= CLOSING && dst >= CLOSING)
        {
            return TimeoutAttr.TCP_TIME_WAIT;
        }
        if (src < ESTABLISHED || dst < ESTABLISHED)
        {
            return TimeoutAttr.TCP_SYN_RECV;
        }
        if (src >= CLOSING || dst >= CLOSING)
        {
            return TimeoutAttr.TCP_FIN_WAIT;
        }
        return TimeoutAttr.TCP_ESTABLISHED;
    }

    @Override
    public void appendProtoInfo(final ConnEntry c, final StringBuilder out)
    {
        out.append(",protoinfo=(state=").append(TcpState.coalesced(c.tcpState(0), c.tcpState(1)).name()).append(')');
    }

    static boolean seqGeq(final int a, final int b)
    {
        return a - b >= 0;
    }

    static boolean seqGt(final int a, final int b)
    {
        return a - b > 0;
    }

    private static int divRoundUp(final int value, final int divisor)
    {
        return (value + divisor - 1) / divisor;
    }
}
