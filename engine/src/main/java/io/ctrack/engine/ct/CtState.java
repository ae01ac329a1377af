package io.ctrack.engine.ct;

/**
 * ct_state bits, with Open vSwitch's values ({@code CS_*} in {@code packets.h}) and names. Printing goes in bit
 * order: {@code new est rel rpl inv trk snat dnat}, joined by {@code |}; a packet with no state prints
 * {@code 0}.
 */
public final class CtState
{
    public static final int NEW = 0x01;
    public static final int ESTABLISHED = 0x02;
    public static final int RELATED = 0x04;
    public static final int REPLY_DIR = 0x08;
    public static final int INVALID = 0x10;
    public static final int TRACKED = 0x20;
    public static final int SRC_NAT = 0x40;
    public static final int DST_NAT = 0x80;

    private static final String[] NAMES = { "new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat" };
    private static final String[] FORMATTED = new String[256];

    static
    {
        for (int state = 0; state < 256; state++)
        {
            final StringBuilder sb = new StringBuilder();
            for (int bit = 0; bit < NAMES.length; bit++)
            {
                if ((state & (1 << bit)) != 0)
                {
                    sb.append(sb.length() == 0 ? "" : "|").append(NAMES[bit]);
                }
            }
            FORMATTED[state] = sb.length() == 0 ? "0" : sb.toString();
        }
    }

    private CtState()
    {
    }

    /** {@code new|trk}-style text, as Open vSwitch's {@code test-conntrack pcap} prints it (cached, no allocation). */
    public static String format(final int state)
    {
        return FORMATTED[state & 0xFF];
    }

    /** Parses a flag name ({@code new}, {@code est}, ...) to its bit, or -1. */
    public static int bitOf(final String name)
    {
        for (int bit = 0; bit < NAMES.length; bit++)
        {
            if (NAMES[bit].equals(name))
            {
                return 1 << bit;
            }
        }
        return -1;
    }
}
