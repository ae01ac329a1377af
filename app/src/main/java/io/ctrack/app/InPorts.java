package io.ctrack.app;

import io.ctrack.engine.packet.ParsedFrame;
import io.ctrack.engine.packet.Protocols;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** Input ports for a capture's packets: a default, and rules by IPv4 source prefix ({@code 1,10.0.0.2/32=2}). */
final class InPorts
{
    private final int defaultPort;
    private final List<long[]> rules;

    private InPorts(final int defaultPort, final List<long[]> rules)
    {
        this.defaultPort = defaultPort;
        this.rules = rules;
    }

    static InPorts parse(final String spec)
    {
        final String[] parts = spec.split(",");
        final int def = port(parts[0].trim(), spec);
        final List<long[]> rules = new ArrayList<>();
        for (int i = 1; i < parts.length; i++)
        {
            final String p = parts[i].trim();
            final int eq = p.indexOf('=');
            if (eq < 0)
            {
                throw new UserError("--in-port: expected CIDR=PORT, got '" + p + "'");
            }
            final String cidr = p.substring(0, eq);
            final int slash = cidr.indexOf('/');
            final long addr = ipv4(slash < 0 ? cidr : cidr.substring(0, slash), spec);
            final int len;
            try
            {
                len = slash < 0 ? 32 : Integer.parseInt(cidr.substring(slash + 1));
            }
            catch (final NumberFormatException ex)
            {
                throw new UserError("--in-port: bad prefix length in '" + p + "'");
            }
            if (len < 0 || len > 32)
            {
                throw new UserError("--in-port: prefix length 0-32 in '" + p + "'");
            }
            final long mask = len == 0 ? 0 : (0xFFFF_FFFFL << (32 - len)) & 0xFFFF_FFFFL;
            rules.add(new long[] { addr & mask, mask, port(p.substring(eq + 1), spec) });
        }
        return new InPorts(def, rules);
    }

    int of(final ParsedFrame frame)
    {
        if (frame.dlType() == Protocols.ETH_TYPE_IPV4 && frame.l3Offset() != ParsedFrame.NONE && frame.l3Size() >= 20)
        {
            final long src = frame.buffer().getInt(frame.l3Offset() + 12, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL;
            for (final long[] r : rules)
            {
                if ((src & r[1]) == r[0])
                {
                    return (int)r[2];
                }
            }
        }
        return defaultPort;
    }

    private static int port(final String text, final String spec)
    {
        try
        {
            final int p = Integer.parseInt(text.trim());
            if (p < 0 || p > 65535)
            {
                throw new NumberFormatException();
            }
            return p;
        }
        catch (final NumberFormatException ex)
        {
            throw new UserError("--in-port: '" + text + "' is not a port (0-65535) in '" + spec + "'");
        }
    }

    private static long ipv4(final String text, final String spec)
    {
        final String[] p = text.split("\\.");
        if (p.length != 4)
        {
            throw new UserError("--in-port: '" + text + "' is not an IPv4 address in '" + spec + "'");
        }
        long v = 0;
        for (final String o : p)
        {
            final int octet;
            try
            {
                octet = Integer.parseInt(o);
            }
            catch (final NumberFormatException ex)
            {
                throw new UserError("--in-port: '" + text + "' is not an IPv4 address in '" + spec + "'");
            }
            if (octet < 0 || octet > 255)
            {
                throw new UserError("--in-port: '" + text + "' is not an IPv4 address in '" + spec + "'");
            }
            v = v << 8 | octet;
        }
        return v;
    }
}
