package io.ctrack.engine.packet;

/**
 * Ethertypes and IP protocol numbers the tracker cares about.
 */
public final class Protocols
{
    public static final int ETH_HEADER_LENGTH = 14;
    public static final int ETH_TYPE_MIN = 0x0600;
    /** What Open vSwitch reports for an 802.2 frame that is not SNAP-encapsulated Ethernet. */
    public static final int ETH_TYPE_NONE = 0x05ff;
    public static final int ETH_TYPE_IPV4 = 0x0800;
    public static final int ETH_TYPE_ARP = 0x0806;
    public static final int ETH_TYPE_VLAN_8021Q = 0x8100;
    public static final int ETH_TYPE_VLAN_8021AD = 0x88a8;
    public static final int ETH_TYPE_IPV6 = 0x86dd;
    public static final int ETH_TYPE_MPLS = 0x8847;
    public static final int ETH_TYPE_MPLS_MCAST = 0x8848;
    /** Open vSwitch parses at most this many VLAN tags ({@code FLOW_MAX_VLAN_HEADERS}). */
    public static final int MAX_VLAN_HEADERS = 2;

    public static final int IPPROTO_HOPOPTS = 0;
    public static final int IPPROTO_ICMP = 1;
    public static final int IPPROTO_IGMP = 2;
    public static final int IPPROTO_TCP = 6;
    public static final int IPPROTO_UDP = 17;
    public static final int IPPROTO_ROUTING = 43;
    public static final int IPPROTO_FRAGMENT = 44;
    public static final int IPPROTO_GRE = 47;
    public static final int IPPROTO_AH = 51;
    public static final int IPPROTO_ICMPV6 = 58;
    public static final int IPPROTO_DSTOPTS = 60;
    public static final int IPPROTO_SCTP = 132;
    public static final int IPPROTO_UDPLITE = 136;
    public static final int IPPROTO_DCCP = 33;

    public static final int IPV4_HEADER_LENGTH = 20;
    public static final int IPV6_HEADER_LENGTH = 40;
    public static final int TCP_HEADER_LENGTH = 20;
    public static final int UDP_HEADER_LENGTH = 8;
    public static final int ICMP_HEADER_LENGTH = 8;
    public static final int SCTP_HEADER_LENGTH = 12;
    /** Bytes of the quoted transport header an ICMPv4 error must carry (RFC 792). */
    public static final int ICMP_ERROR_DATA_L4_LENGTH = 8;

    public static final int IP_MORE_FRAGMENTS = 0x2000;
    public static final int IP_FRAG_OFF_MASK = 0x1fff;
    public static final int IP6F_OFF_MASK = 0xfff8;
    public static final int IP6F_MORE_FRAG = 0x0001;

    public static final int TCP_FIN = 0x001;
    public static final int TCP_SYN = 0x002;
    public static final int TCP_RST = 0x004;
    public static final int TCP_PSH = 0x008;
    public static final int TCP_ACK = 0x010;
    public static final int TCP_URG = 0x020;

    public static final int ICMP4_ECHO_REPLY = 0;
    public static final int ICMP4_DST_UNREACH = 3;
    public static final int ICMP4_SOURCEQUENCH = 4;
    public static final int ICMP4_REDIRECT = 5;
    public static final int ICMP4_ECHO_REQUEST = 8;
    public static final int ICMP4_TIME_EXCEEDED = 11;
    public static final int ICMP4_PARAM_PROB = 12;
    public static final int ICMP4_TIMESTAMP = 13;
    public static final int ICMP4_TIMESTAMPREPLY = 14;
    public static final int ICMP4_INFOREQUEST = 15;
    public static final int ICMP4_INFOREPLY = 16;

    public static final int ICMP6_DST_UNREACH = 1;
    public static final int ICMP6_PACKET_TOO_BIG = 2;
    public static final int ICMP6_TIME_EXCEEDED = 3;
    public static final int ICMP6_PARAM_PROB = 4;
    public static final int ICMP6_ECHO_REQUEST = 128;
    public static final int ICMP6_ECHO_REPLY = 129;

    private Protocols()
    {
    }

    /**
     * The ICMPv4 type that answers an informational type (echo, timestamp, information), or -1 for any
     * other type.
     */
    public static int reverseIcmp4Type(final int type)
    {
        switch (type)
        {
            case ICMP4_ECHO_REQUEST: return ICMP4_ECHO_REPLY;
            case ICMP4_ECHO_REPLY: return ICMP4_ECHO_REQUEST;
            case ICMP4_TIMESTAMP: return ICMP4_TIMESTAMPREPLY;
            case ICMP4_TIMESTAMPREPLY: return ICMP4_TIMESTAMP;
            case ICMP4_INFOREQUEST: return ICMP4_INFOREPLY;
            case ICMP4_INFOREPLY: return ICMP4_INFOREQUEST;
            default: return -1;
        }
    }

    /** The ICMPv6 echo type that answers {@code type}, or -1. */
    public static int reverseIcmp6Type(final int type)
    {
        switch (type)
        {
            case ICMP6_ECHO_REQUEST: return ICMP6_ECHO_REPLY;
            case ICMP6_ECHO_REPLY: return ICMP6_ECHO_REQUEST;
            default: return -1;
        }
    }

    /** Protocol name as Open vSwitch's {@code ct_dpif_format_ipproto} prints it. */
    public static String ipProtoName(final int proto)
    {
        switch (proto)
        {
            case IPPROTO_ICMP: return "icmp";
            case IPPROTO_ICMPV6: return "icmpv6";
            case IPPROTO_TCP: return "tcp";
            case IPPROTO_UDP: return "udp";
            case IPPROTO_SCTP: return "sctp";
            case IPPROTO_UDPLITE: return "udplite";
            case IPPROTO_DCCP: return "dccp";
            case IPPROTO_IGMP: return "igmp";
            default: return Integer.toString(proto);
        }
    }
}
