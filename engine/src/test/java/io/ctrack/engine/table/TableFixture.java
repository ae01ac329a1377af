package io.ctrack.engine.table;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.key.SymmetricHash;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.status.EngineCounters;
import io.ctrack.engine.timeout.TimeoutAttr;
import io.ctrack.engine.timeout.TimeoutPolicies;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Arrays;

/**
 * A {@link ConnTable} with its policies, limits and counters, fed hand-made requests (no packets), for tests
 * that need many connections or exact control of keys.
 */
final class TableFixture
{
    final TimeoutPolicies policies = new TimeoutPolicies();
    final LocalLimits limits = new LocalLimits();
    final EngineCounters counters = new EngineCounters();
    final ConnTable table;
    final Verdict verdict = new Verdict().wrap(new UnsafeBuffer(new byte[Verdict.LENGTH]), 0);
    final ExecParams commit = ExecParams.commit(0);

    TableFixture(final ConnTableConfig config)
    {
        table = new ConnTable(config, policies, limits, counters);
    }

    TableFixture()
    {
        this(ConnTableConfig.of(0, 1024));
    }

    /** A UDP request {@code src:sport -> dst:dport} in {@code zone} (IPv4 addresses as numbers). */
    static CtRequest udp(final int zone, final int src, final int sport, final int dst, final int dport)
    {
        final CtRequest r = new CtRequest().zone(zone).flags(0).nwProto(17)
            .src(0, src & 0xFFFF_FFFFL).dst(0, dst & 0xFFFF_FFFFL).srcL4(sport << 16).dstL4(dport << 16);
        return r.hash(SymmetricHash.of(r));
    }

    /** An IPv6 UDP request. */
    static CtRequest udp6(final int zone, final long srcLo, final int sport, final long dstLo, final int dport)
    {
        final CtRequest r = new CtRequest().zone(zone).flags(CtRequest.FLAG_IPV6).nwProto(17)
            .src(0xFD00_0000_0000_0000L, srcLo).dst(0xFD00_0000_0000_0000L, dstLo).srcL4(sport << 16).dstL4(dport << 16);
        return r.hash(SymmetricHash.of(r));
    }

    /** The request of a packet going the other way. */
    static CtRequest reverse(final CtRequest r)
    {
        final CtRequest back = new CtRequest().zone(r.zone()).flags(r.flags()).nwProto(r.nwProto())
            .src(r.dstHi(), r.dstLo()).dst(r.srcHi(), r.srcLo()).srcL4(r.dstL4()).dstL4(r.srcL4());
        return back.hash(SymmetricHash.of(back));
    }

    /** The i-th of many distinct connections in {@code zone}. */
    static CtRequest many(final int zone, final int i)
    {
        return udp(zone, 0x0A00_0000 | (i >>> 12), 1024 + (i & 0xFFF), 0xC0A8_0001, 53);
    }

    String execute(final CtRequest r, final long nowMs)
    {
        return execute(r, commit, nowMs);
    }

    String execute(final CtRequest r, final ExecParams p, final long nowMs)
    {
        table.execute(r, p, nowMs, verdict);
        return CtState.format(verdict.ctState());
    }

    long counter(final EngineCounter counter)
    {
        return counters.get(counter);
    }

    /** Policy {@code id} with the given UDP first/single/multiple seconds (-1 keeps a default). */
    void udpPolicy(final int id, final int first, final int single, final int multiple)
    {
        final int[] seconds = new int[TimeoutAttr.count()];
        Arrays.fill(seconds, -1);
        seconds[TimeoutAttr.UDP_FIRST.ordinal()] = first;
        seconds[TimeoutAttr.UDP_SINGLE.ordinal()] = single;
        seconds[TimeoutAttr.UDP_MULTIPLE.ordinal()] = multiple;
        policies.setPolicy(id, seconds);
    }
}
