package org.kvmgdb.core.session;

import java.util.LinkedHashMap;
import java.util.Map;
import org.kvmgdb.core.protocol.ResumePackets;
import org.kvmgdb.core.protocol.ResumePackets.Continue;
import org.kvmgdb.core.protocol.ResumePackets.Step;
import org.kvmgdb.core.protocol.ResumePackets.VCont;
import org.kvmgdb.core.protocol.ResumePackets.VContQuery;
import org.kvmgdb.core.target.ResumeRequest;
import org.kvmgdb.core.target.TargetException;

/** {@code c C s S vCont? vCont}. All-stop: whatever runs, everything stops at the first event. */
final class ResumeHandlers {
    /**
     * Our {@code vCont?} answer. gdb uses {@code vCont} only when both {@code c} and {@code C} are
     * offered (and then also needs {@code s} and {@code S} to step with it).
     */
    static final String VCONT_ACTIONS = "vCont;c;C;s;S";
    /** Added to {@link #VCONT_ACTIONS} for a target that range-steps: gdb 13 then uses it for {@code step}/{@code next}. */
    static final String RANGE_STEP_ACTION = ";r";

    private final SessionState state;

    ResumeHandlers(SessionState state) {
        this.state = state;
    }

    void register(HandlerTable table) {
        table.on(Continue.class, this::resumeContinue);
        table.on(Step.class, this::step);
        table.on(VContQuery.class, c -> Outcome.reply(
                state.target.supportsRangeStepping() ? VCONT_ACTIONS + RANGE_STEP_ACTION : VCONT_ACTIONS));
        table.on(VCont.class, this::vCont);
    }

    /** {@code c}/{@code C}: every thread runs; a signal goes to the {@code Hc} thread only. */
    private Outcome resumeContinue(Continue c) throws TargetException {
        refuseAddress(c.address().isPresent());
        Map<Integer, ResumeRequest.Action> perThread = c.signal() == 0
                ? Map.of()
                : Map.of(state.continueThread(), new ResumeRequest.Continue(c.signal()));
        return new Outcome.Resume(new ResumeRequest(perThread, new ResumeRequest.Continue(0)));
    }

    /** {@code s}/{@code S}: the {@code Hc} thread steps, the others stay stopped. */
    private Outcome step(Step c) throws TargetException {
        refuseAddress(c.address().isPresent());
        return new Outcome.Resume(new ResumeRequest(Map.of(state.continueThread(), new ResumeRequest.Step(c.signal())), null));
    }

    /**
     * The resume address of {@code c addr}/{@code s addr} would mean writing the pc, which the
     * session cannot name for every architecture; gdb has not sent it for decades.
     */
    private static void refuseAddress(boolean present) throws TargetException {
        if (present) {
            throw new TargetException(TargetException.EINVAL, "resuming at an address is not supported");
        }
    }

    /** For each thread the leftmost action that names it (or names no thread) applies. */
    private Outcome vCont(VCont c) throws TargetException {
        Map<Integer, ResumeRequest.Action> perThread = new LinkedHashMap<>();
        ResumeRequest.Action others = null;
        for (ResumePackets.Action a : c.actions()) {
            if (others != null) {
                break; // an action without a thread already matched every thread left
            }
            ResumeRequest.Action action = action(a);
            if (a.thread() == null || a.thread().isAny()) {
                // "0" (any thread) in all-stop is the current thread's business; treat as every other one.
                others = action;
            } else {
                perThread.putIfAbsent(state.select(a.thread()), action);
            }
        }
        return new Outcome.Resume(new ResumeRequest(perThread, others));
    }

    private ResumeRequest.Action action(ResumePackets.Action a) throws TargetException {
        switch (a.kind()) {
            case CONTINUE:
                return new ResumeRequest.Continue(a.signal());
            case STEP:
                return new ResumeRequest.Step(a.signal());
            case RANGE_STEP:
                if (!state.target.supportsRangeStepping()) {
                    throw new TargetException(TargetException.EINVAL, "vCont;r was not offered: this target does not range-step");
                }
                return new ResumeRequest.RangeStep(a.start(), a.end());
            default:
                // vCont;t only means something in non-stop mode, which we do not offer.
                throw new TargetException(TargetException.EINVAL, "vCont;t needs non-stop mode");
        }
    }
}
