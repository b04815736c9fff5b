namespace DistSac.Learner.Tests;

public class WorkerActivityTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(30);

    private static Dictionary<string, long> Counts(params (string Worker, long Count)[] counts) =>
        counts.ToDictionary(c => c.Worker, c => c.Count);

    [Fact]
    public void New_workers_are_active_and_a_worker_whose_count_stops_growing_drops_out_after_the_window()
    {
        var activity = new WorkerActivity(Window);

        activity.Observe(Counts(("a", 10)), TimeSpan.FromSeconds(0));
        Assert.Equal((1, 1), (activity.Active, activity.Seen));

        activity.Observe(Counts(("a", 20), ("b", 5), ("c", 5)), TimeSpan.FromSeconds(10));
        Assert.Equal((3, 3), (activity.Active, activity.Seen));

        // b stops at 5 (killed); a and c keep pushing.
        activity.Observe(Counts(("a", 30), ("b", 5), ("c", 9)), TimeSpan.FromSeconds(40));
        Assert.Equal((3, 3), (activity.Active, activity.Seen)); // b changed at 10 s: exactly 30 s ago, still in the window
        activity.Observe(Counts(("a", 40), ("b", 5), ("c", 12)), TimeSpan.FromSeconds(41));
        Assert.Equal((2, 3), (activity.Active, activity.Seen));

        // Everyone idle for longer than the window.
        activity.Observe(Counts(("a", 40), ("b", 5), ("c", 12)), TimeSpan.FromSeconds(100));
        Assert.Equal((0, 3), (activity.Active, activity.Seen));
    }

    [Fact]
    public void An_empty_reading_changes_nothing_known()
    {
        var activity = new WorkerActivity(Window);
        activity.Observe(Counts(), TimeSpan.Zero);
        Assert.Equal((0, 0), (activity.Active, activity.Seen));
        Assert.Throws<ArgumentNullException>(() => activity.Observe(null!, TimeSpan.Zero));
    }
}
