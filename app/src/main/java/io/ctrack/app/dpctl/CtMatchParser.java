package io.ctrack.app.dpctl;

import io.ctrack.engine.ct.ConnMatch;

import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Parses {@code flush-conntrack} arguments as Open vSwitch's {@code ofp_ct_match_parse} does:
 * {@code [zone=N] [mark=V[/M]] [labels=V[/M]] [ct-orig-tuple [ct-reply-tuple]]}, a tuple being
 * {@code ct_nw_src=,ct_nw_dst=,ct_ipv6_src=,ct_ipv6_dst=,ct_nw_proto=,ct_tp_src=,ct_tp_dst=,icmp_type=,icmp_code=,icmp_id=}.
 */
final class CtMatchParser
{
    /** Parse result: the zone ({@code hasZone} says whether one was given) and the match. */
    record Parsed(boolean hasZone, int zone, ConnMatch match)
    {
    }

    private int family;
    private int proto;

    static Parsed parse(final List<String> args) throws DpctlException
    {
        return new CtMatchParser().parseArgs(args);
    }

    private Parsed parseArgs(final List<String> args) throws DpctlException
    {
        int i = 0;
        boolean hasZone = false;
        int zone = 0;
        if (i < args.size() && args.get(i).startsWith("zone="))
        {
            zone = parseUnsigned(args.get(i).substring(5), 0xFFFF, "failed to parse zone");
            hasZone = true;
            i++;
        }
        long mark = 0;
        long markMask = 0;
        if (i < args.size() && args.get(i).startsWith("mark="))
        {
            final BigInteger[] vm = masked(args.get(i).substring(5), 32, "failed to parse mark");
            mark = vm[0].longValue();
            markMask = vm[1].longValue();
            i++;
        }
        BigInteger labels = BigInteger.ZERO;
        BigInteger labelsMask = BigInteger.ZERO;
        if (i < args.size() && args.get(i).startsWith("labels="))
        {
            final BigInteger[] vm = masked(args.get(i).substring(7), 128, "failed to parse labels");
            labels = vm[0];
            labelsMask = vm[1];
            i++;
        }
        ConnMatch.Tuple orig = null;
        ConnMatch.Tuple reply = null;
        if (i < args.size())
        {
            orig = args.get(i).isEmpty() ? null : tuple(args.get(i));
            i++;
        }
        if (i < args.size())
        {
            reply = args.get(i).isEmpty() ? null : tuple(args.get(i));
            i++;
        }
        if (i < args.size())
        {
            throw new DpctlException("invalid arguments");
        }
        final BigInteger low = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
        final ConnMatch match = new ConnMatch(family, proto, orig, reply, (int)mark, (int)markMask,
            labels.and(low).longValue(), labels.shiftRight(64).longValue(),
            labelsMask.and(low).longValue(), labelsMask.shiftRight(64).longValue());
        return new Parsed(hasZone, zone, match);
    }

    private ConnMatch.Tuple tuple(final String text) throws DpctlException
    {
        boolean hasSrc = false;
        boolean hasDst = false;
        long srcHi = 0;
        long srcLo = 0;
        long dstHi = 0;
        long dstLo = 0;
        int srcPort = 0;
        int dstPort = 0;
        int icmpId = 0;
        int icmpType = 0;
        int icmpCode = 0;
        for (final String field : text.split(","))
        {
            if (field.isEmpty())
            {
                continue;
            }
            final int eq = field.indexOf('=');
            final String key = eq < 0 ? field : field.substring(0, eq);
            final String value = eq < 0 ? "" : field.substring(eq + 1);
            if (value.isEmpty())
            {
                throw new DpctlException("field " + key + " missing value");
            }
            switch (key)
            {
                case "ct_nw_src", "ct_nw_dst" ->
                {
                    if (family == 6)
                    {
                        throw new DpctlException("the L3 protocol does not match " + value);
                    }
                    final long address = ipv4(value, key);
                    family = 4;
                    if (key.equals("ct_nw_src"))
                    {
                        if (hasSrc)
                        {
                            throw new DpctlException(key + " is set multiple times");
                        }
                        hasSrc = true;
                        srcLo = address;
                    }
                    else
                    {
                        if (hasDst)
                        {
                            throw new DpctlException(key + " is set multiple times");
                        }
                        hasDst = true;
                        dstLo = address;
                    }
                }
                case "ct_ipv6_src", "ct_ipv6_dst" ->
                {
                    if (family == 4)
                    {
                        throw new DpctlException("the L3 protocol does not match " + value);
                    }
                    final long[] address = ipv6(value, key);
                    family = 6;
                    if (key.equals("ct_ipv6_src"))
                    {
                        hasSrc = true;
                        srcHi = address[0];
                        srcLo = address[1];
                    }
                    else
                    {
                        hasDst = true;
                        dstHi = address[0];
                        dstLo = address[1];
                    }
                }
                case "ct_nw_proto" -> proto = parseUnsigned(value, 0xFF, "failed to parse field " + key);
                case "ct_tp_src" -> srcPort = parseUnsigned(value, 0xFFFF, "failed to parse field " + key);
                case "ct_tp_dst" -> dstPort = parseUnsigned(value, 0xFFFF, "failed to parse field " + key);
                case "icmp_type", "icmp_code", "icmp_id" ->
                {
                    if (proto != 1 && proto != 58)
                    {
                        throw new DpctlException("invalid L4 fields");
                    }
                    if (key.equals("icmp_type"))
                    {
                        icmpType = parseUnsigned(value, 0xFF, "failed to parse field " + key);
                    }
                    else if (key.equals("icmp_code"))
                    {
                        icmpCode = parseUnsigned(value, 0xFF, "failed to parse field " + key);
                    }
                    else
                    {
                        icmpId = parseUnsigned(value, 0xFFFF, "failed to parse field " + key);
                    }
                }
                default -> throw new DpctlException("invalid conntrack tuple field: " + key);
            }
        }
        if (proto == 0 && (srcPort != 0 || dstPort != 0))
        {
            throw new DpctlException("port is set without protocol");
        }
        return new ConnMatch.Tuple(hasSrc, srcHi, srcLo, hasDst, dstHi, dstLo, srcPort, dstPort, icmpId, icmpType,
            icmpCode);
    }

    static int parseUnsigned(final String text, final long max, final String error) throws DpctlException
    {
        try
        {
            final long value = Long.decode(text);
            if (value < 0 || value > max)
            {
                throw new DpctlException(error);
            }
            return (int)value;
        }
        catch (final NumberFormatException ex)
        {
            throw new DpctlException(error);
        }
    }

    /** {@code V} or {@code V/M} (decimal or 0x hex); the mask defaults to all ones. */
    private static BigInteger[] masked(final String text, final int bits, final String error) throws DpctlException
    {
        final int slash = text.indexOf('/');
        final BigInteger all = BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE);
        final BigInteger value = number(slash < 0 ? text : text.substring(0, slash), all, error);
        final BigInteger mask = slash < 0 ? all : number(text.substring(slash + 1), all, error);
        return new BigInteger[] { value.and(mask), mask };
    }

    private static BigInteger number(final String text, final BigInteger max, final String error)
        throws DpctlException
    {
        try
        {
            final BigInteger n = text.startsWith("0x") || text.startsWith("0X") ?
                new BigInteger(text.substring(2), 16) : new BigInteger(text);
            if (n.signum() < 0 || n.compareTo(max) > 0)
            {
                throw new DpctlException(error);
            }
            return n;
        }
        catch (final NumberFormatException ex)
        {
            throw new DpctlException(error);
        }
    }

    static long ipv4(final String text, final String key) throws DpctlException
    {
        if (!text.matches("\\d{1,3}(\\.\\d{1,3}){3}"))
        {
            throw new DpctlException("failed to parse field " + key);
        }
        try
        {
            final byte[] b = ((Inet4Address)InetAddress.getByName(text)).getAddress();
            return ByteBuffer.wrap(b).getInt() & 0xFFFF_FFFFL;
        }
        catch (final Exception ex)
        {
            throw new DpctlException("failed to parse field " + key);
        }
    }

    static long[] ipv6(final String text, final String key) throws DpctlException
    {
        if (!text.contains(":") || !text.matches("[0-9A-Fa-f:.]+"))
        {
            throw new DpctlException("failed to parse field " + key);
        }
        try
        {
            final InetAddress address = InetAddress.getByName(text);
            final byte[] b = address instanceof Inet6Address ? address.getAddress() : null;
            if (b == null)
            {
                throw new DpctlException("failed to parse field " + key);
            }
            final ByteBuffer buffer = ByteBuffer.wrap(b);
            return new long[] { buffer.getLong(), buffer.getLong() };
        }
        catch (final DpctlException ex)
        {
            throw ex;
        }
        catch (final Exception ex)
        {
            throw new DpctlException("failed to parse field " + key);
        }
    }
}
