package io.globalregistry.membership;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One node's view of the other members: when each was last heard, which are being checked, and
 * which incarnations are known dead (so a late message from one never brings it back).
 *
 * <p>A member leaves the view only when the broker certified its death or it said goodbye; a
 * member that is merely silent stays in it (it may be paused, and its names with it).
 * Not thread-safe: used from the node's event loop.
 */
public final class Membership {

    private final NodeId self;
    private final Map<NodeId, Member> members = new LinkedHashMap<>();
    private final Set<NodeId> dead = new LinkedHashSet<>();

    public Membership(NodeId self) {
        this.self = self;
    }

    /** What is known of one member. */
    public static final class Member {
        private final NodeId id;
        private final long joinedAt;
        private long lastHeard;
        private long lastCheck;
        private boolean checking;

        Member(NodeId id, long now) {
            this.id = id;
            this.joinedAt = now;
            this.lastHeard = now;
            this.lastCheck = now;
        }

        public NodeId id() {
            return id;
        }

        public long joinedAt() {
            return joinedAt;
        }

        public long lastHeard() {
            return lastHeard;
        }
    }

    /**
     * Records that {@code id} was heard from (or reported by another member) at {@code now}.
     *
     * @return true if it was not a member before
     */
    public boolean heard(NodeId id, long now) {
        if (id.equals(self) || dead.contains(id)) {
            return false;
        }
        Member member = members.get(id);
        if (member == null) {
            members.put(id, new Member(id, now));
            return true;
        }
        member.lastHeard = Math.max(member.lastHeard, now);
        return false;
    }

    /** Whether {@code id} is a member (not self, not dead). */
    public boolean isMember(NodeId id) {
        return members.containsKey(id);
    }

    /** Whether {@code id} is an incarnation certified dead or gone. */
    public boolean isDead(NodeId id) {
        return dead.contains(id);
    }

    /** The members, self excluded, in the order they were first heard. */
    public Set<NodeId> memberIds() {
        return Collections.unmodifiableSet(members.keySet());
    }

    /** The members' details. */
    public List<Member> members() {
        return List.copyOf(members.values());
    }

    /**
     * The members silent for longer than {@code suspectAfter} that are not being checked and were
     * not checked within the last {@code suspectAfter}; each is marked as being checked.
     */
    public List<NodeId> takeSuspects(long now, long suspectAfter) {
        List<NodeId> suspects = new ArrayList<>();
        for (Member member : members.values()) {
            if (!member.checking && now - member.lastHeard > suspectAfter && now - member.lastCheck > suspectAfter) {
                member.checking = true;
                suspects.add(member.id);
            }
        }
        return suspects;
    }

    /** The broker said {@code id} is alive: it stays, and is checked again after another silence. */
    public void checkedAlive(NodeId id, long now) {
        Member member = members.get(id);
        if (member != null) {
            member.checking = false;
            member.lastCheck = now;
        }
    }

    /**
     * {@code id} is dead (certified by the broker) or left: it leaves the view for good.
     *
     * @return true if it was a member
     */
    public boolean remove(NodeId id) {
        dead.add(id);
        return members.remove(id) != null;
    }
}
