package io.ctrack.engine.table;

import io.ctrack.engine.key.CtRequest;

/** Visitor of {@link ConnTable#forEachNatLink}. */
@FunctionalInterface
public interface AliasVisitor
{
    void visit(int bucket, int ref, long connId, CtRequest key);
}
