using ActorTraining.Compute.Runtime;

namespace ActorTraining.Compute.Tests.Runtime;

public class BackgroundPriorityTests
{
    [Fact]
    public void ALoweredThreadRunsAtNice19AndTheThreadsItStartsInheritItWhileOthersStayAtZero()
    {
        int lowered = -1, child = -1, before = -1;
        bool ok = false;
        var thread = new Thread(() =>
        {
            before = BackgroundPriority.CurrentThreadNice();
            ok = BackgroundPriority.LowerCurrentThread();
            lowered = BackgroundPriority.CurrentThreadNice();
            var inner = new Thread(() => child = BackgroundPriority.CurrentThreadNice());
            inner.Start();
            inner.Join();
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(10)));
        Assert.True(ok);
        Assert.Equal(0, before);
        Assert.Equal(19, lowered);
        Assert.Equal(19, child); // libgomp's workers, started by the lowered thread, run at its priority too
        Assert.Equal(0, BackgroundPriority.CurrentThreadNice());
    }
}
