package io.ctrack.transport;

import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.transport.wire.BatchFlyweight;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class StagedRequestsTest
{
    private static final int COUNT = 40;

    private final Random random = new Random(11);
    private final StagedRequests staged = new StagedRequests(COUNT);
    private final CtRequest[] requests = new CtRequest[COUNT];

    /**
     * What a table receives of {@code request}: all of it, except for a request of the short form, which carries no
     * TCP field and no ct_state (its L4 type is the high byte of its source port).
     */
    private static CtRequest carried(final CtRequest request)
    {
        return request.isShortForm() ? new CtRequest().copyFrom(request).tcp(0, 0, 0, 0, 0, 0)
            .l4Type(request.srcL4() >>> 24) : request;
    }

    /**
     * IPv4 requests (IPv4 addresses, so that the compact form keeps them whole), every fifth one IPv6, every seventh a
     * UDP request of the short form among requests that are not.
     */
    private void stageAll()
    {
        for (int i = 0; i < COUNT; i++)
        {
            final CtRequest r = new CtRequest().nwProto(random.nextInt(256)).zone(random.nextInt(65_536))
                .hash(random.nextInt()).srcL4(random.nextInt()).dstL4(random.nextInt())
                .tcp(random.nextInt(), random.nextInt(), random.nextInt(65_536), random.nextInt(4096),
                    random.nextInt(65_536), random.nextInt(256))
                .inState(random.nextInt(256));
            if (i % 5 == 3)
            {
                r.flags(CtRequest.FLAG_IPV6).src(random.nextLong(), random.nextLong()).dst(random.nextLong(), random.nextLong());
            }
            else
            {
                r.flags(random.nextInt(2) * CtRequest.FLAG_ICMP_RELATED)
                    .src(0, random.nextInt() & 0xFFFF_FFFFL).dst(0, random.nextInt() & 0xFFFF_FFFFL);
            }
            if (i % 7 == 6)
            {
                r.flags(0).nwProto(17).inState(0).src(0, random.nextInt() & 0xFFFF_FFFFL).dst(0, random.nextInt() & 0xFFFF_FFFFL);
            }
            requests[i] = r;
            staged.stage(i, r);
        }
    }

    @Test
    void compactMessagesCarryRunsOfConsecutivePositionsAndGaps()
    {
        stageAll();
        // IPv4 positions only, in an order with runs (0-2, 5-7, ...) and jumps back.
        final int[] order = { 0, 1, 2, 5, 6, 7, 4, 10, 11, 12, 14, 9 };
        final BatchFlyweight batch = message(order.length, BatchFlyweight.FLAG_COMPACT);
        staged.copyTo(order, 0, order.length, StagedRequests.COMPACT, batch, (UnsafeBuffer)batch.buffer());
        final CtRequest read = new CtRequest();
        for (int k = 0; k < order.length; k++)
        {
            assertEquals(hex(carried(requests[order[k]])), hex(batch.readRequest(k, read)), "request " + k);
        }
    }

    @Test
    void fullMessagesExpandTheIpv4RequestsBesideIpv6Ones()
    {
        stageAll();
        final int[] order = new int[COUNT - 4];
        for (int k = 0; k < order.length; k++)
        {
            order[k] = (k * 7) % COUNT;
        }
        final BatchFlyweight batch = message(order.length - 2, 0);
        staged.copyTo(order, 2, order.length - 2, StagedRequests.FULL, batch, (UnsafeBuffer)batch.buffer());
        final CtRequest read = new CtRequest();
        for (int k = 0; k < order.length - 2; k++)
        {
            assertEquals(hex(carried(requests[order[k + 2]])), hex(batch.readRequest(k, read)), "request " + k);
        }
    }

    @Test
    void shortMessagesCarryEachRequestsFirst24BytesAndReadBackWhatTheTableNeeds()
    {
        final CtRequest[] udp = new CtRequest[COUNT];
        for (int i = 0; i < COUNT; i++)
        {
            // Left-over TCP fields of an earlier packet, as the key extractor leaves them for UDP: not carried.
            final int sport = 1 + random.nextInt(65_535);
            udp[i] = new CtRequest().nwProto(i % 3 == 0 ? 132 : 17).zone(random.nextInt(65_536)).hash(random.nextInt())
                .srcL4(sport << 16).dstL4((1 + random.nextInt(65_535)) << 16)
                .src(0, random.nextInt() & 0xFFFF_FFFFL).dst(0, random.nextInt() & 0xFFFF_FFFFL)
                .tcp(random.nextInt(), random.nextInt(), 0, random.nextInt(4096), random.nextInt(65_536), 7)
                .l4Type(sport >>> 8);
            staged.stage(i, udp[i]);
        }
        final int[] order = { 3, 4, 5, 0, 39, 17, 18, 2 };
        final BatchFlyweight batch = message(order.length, BatchFlyweight.FLAG_SHORT);
        assertEquals(CtRequest.SHORT_LENGTH, batch.requestLength());
        staged.copyTo(order, 0, order.length, StagedRequests.SHORT, batch, (UnsafeBuffer)batch.buffer());
        final CtRequest read = new CtRequest();
        for (int k = 0; k < order.length; k++)
        {
            final CtRequest expected = new CtRequest().copyFrom(udp[order[k]]).tcp(0, 0, 0, 0, 0, 0)
                .l4Type(udp[order[k]].l4Type());
            assertEquals(hex(expected), hex(batch.readRequest(k, read)), "request " + k);
        }
    }

    private static BatchFlyweight message(final int count, final int form)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[BatchFlyweight.length(count, form | BatchFlyweight.FLAG_COMMIT)]);
        final BatchFlyweight batch = new BatchFlyweight().wrap(buffer, 0).header(count, 1, 1, 1, ExecParams.commit(0));
        return form != 0 ? batch.addFlags(form) : batch;
    }

    private static String hex(final CtRequest request)
    {
        final UnsafeBuffer out = new UnsafeBuffer(new byte[CtRequest.LENGTH]);
        request.writeTo(out, 0);
        return HexFormat.of().formatHex(out.byteArray());
    }
}
