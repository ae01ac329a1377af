package io.ctrack.engine.table;

/**
 * Where a {@link ConnTable}'s reply tuples live: which bucket a hash belongs to. {@link #LOCAL}, the default, keeps
 * everything in the one table.
 */
public interface Placement
{
    Placement LOCAL = new Placement()
    {
        @Override
        public boolean isLocal(final int hash)
        {
            return true;
        }

        @Override
        public int bucketOf(final int hash)
        {
            return 0;
        }

        @Override
        public boolean allLocal()
        {
            return true;
        }
    };

    boolean isLocal(int hash);

    int bucketOf(int hash);

    default boolean allLocal()
    {
        return false;
    }
}
