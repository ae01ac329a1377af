package io.ctrack.engine.timeout;

/**
 * One timeout of a timeout policy, with Open vSwitch's default in seconds ({@code ct_dpif_netdev_tp_def}).
 * Trackers name the attribute directly: there is no second enum to map by hand.
 * <ul>
 * <li>{@link #TCP_SYN_SENT}: after the first packet of a TCP connection, or a SYN re-sent;</li>
 * <li>{@link #TCP_SYN_RECV}: while either peer is not yet established;</li>
 * <li>{@link #TCP_ESTABLISHED}: both peers established;</li>
 * <li>{@link #TCP_FIN_WAIT}: one peer has sent a FIN;</li>
 * <li>{@link #TCP_TIME_WAIT}: both peers have sent a FIN;</li>
 * <li>{@link #TCP_CLOSE}: both peers' FINs acknowledged, or a reset;</li>
 * <li>{@link #UDP_FIRST}, {@link #UDP_SINGLE}, {@link #UDP_MULTIPLE}: UDP and every other protocol: first packet,
 * more packets in one direction only, packets both ways;</li>
 * <li>{@link #ICMP_FIRST}, {@link #ICMP_REPLY}: ICMP before and after a reply.</li>
 * </ul>
 */
public enum TimeoutAttr
{
    TCP_SYN_SENT("tcp_syn_sent", 30),
    TCP_SYN_RECV("tcp_syn_recv", 30),
    TCP_ESTABLISHED("tcp_established", 86_400),
    TCP_FIN_WAIT("tcp_fin_wait", 900),
    TCP_TIME_WAIT("tcp_time_wait", 45),
    TCP_CLOSE("tcp_close", 30),
    UDP_FIRST("udp_first", 60),
    UDP_SINGLE("udp_single", 60),
    UDP_MULTIPLE("udp_multiple", 30),
    ICMP_FIRST("icmp_first", 60),
    ICMP_REPLY("icmp_reply", 30);

    private static final TimeoutAttr[] VALUES = values();

    private final String configName;
    private final int defaultSeconds;

    TimeoutAttr(final String configName, final int defaultSeconds)
    {
        this.configName = configName;
        this.defaultSeconds = defaultSeconds;
    }

    /** The name Open vSwitch uses in {@code ct_timeout_policy} (and ours in config and CLI). */
    public String configName()
    {
        return configName;
    }

    public int defaultSeconds()
    {
        return defaultSeconds;
    }

    public static TimeoutAttr byOrdinal(final int ordinal)
    {
        return VALUES[ordinal];
    }

    public static int count()
    {
        return VALUES.length;
    }

    /** Looks an attribute up by its config name, e.g. {@code tcp_established}. */
    public static TimeoutAttr byConfigName(final String name)
    {
        for (final TimeoutAttr attr : VALUES)
        {
            if (attr.configName.equals(name))
            {
                return attr;
            }
        }
        throw new IllegalArgumentException("unknown timeout '" + name + "'; expected one of " + names());
    }

    private static String names()
    {
        final StringBuilder sb = new StringBuilder();
        for (final TimeoutAttr attr : VALUES)
        {
            sb.append(sb.length() == 0 ? "" : ", ").append(attr.configName);
        }
        return sb.toString();
    }
}
