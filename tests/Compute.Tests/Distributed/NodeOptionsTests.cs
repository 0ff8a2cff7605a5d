using ActorTraining.Compute.Distributed;
using ActorTraining.Compute.Training;

namespace ActorTraining.Compute.Tests.Distributed;

/// <summary>`train`'s cluster options: --node, --seed-nodes or --discovery, --min-nodes, --management-port.</summary>
public sealed class NodeOptionsTests
{
    const string Postgres = "Host=db";

    [Fact]
    public void ANodeOfAClusterHasAManagementEndpointAtItsPortPlus4505UnlessGivenOneAndANodeAloneOnlyWhenAsked()
    {
        var seeded = NodeOptions.Parse("10.0.0.7:4053", "10.0.0.7:4053,10.0.0.8:4053", 2, Postgres);
        Assert.Equal(8558, seeded.ManagementPort);
        Assert.Null(seeded.Discovery);
        Assert.Equal(9000, NodeOptions.Parse("10.0.0.7:4053", "10.0.0.7:4053", null, Postgres, managementPort: 9000).ManagementPort);
        Assert.Null(NodeOptions.Parse(null, null, null, null).ManagementPort);
        Assert.Equal(8558, NodeOptions.Parse(null, null, null, null, managementPort: 8558).ManagementPort);
    }

    [Fact]
    public void DiscoveryFindsTheClusterInPlaceOfSeedNodes()
    {
        var found = NodeOptions.Parse("10.0.0.7:4053", null, 3, Postgres, "config:10.0.0.7:8558, 10.0.0.8:8558,10.0.0.9:8558");
        Assert.True(found.IsCluster);
        Assert.Empty(found.SeedNodes);
        var config = Assert.IsType<ClusterDiscovery.Config>(found.Discovery);
        Assert.Equal([("10.0.0.7", 8558), ("10.0.0.8", 8558), ("10.0.0.9", 8558)], config.ContactPoints);
        Assert.Equal(3, config.RequiredContactPoints(3));
        Assert.Equal(3, config.RequiredContactPoints(8)); // no more than are listed
        Assert.Equal(2, config.RequiredContactPoints(2));
        Assert.Equal("config:10.0.0.7:8558,10.0.0.8:8558,10.0.0.9:8558", config.ToString());
        Assert.Equal(new ClusterDiscovery.Kubernetes("actortraining"), ClusterDiscovery.Parse("kubernetes"));
        Assert.Equal(new ClusterDiscovery.Kubernetes("trainer-a"), ClusterDiscovery.Parse("kubernetes:trainer-a"));
        Assert.Equal(4, ClusterDiscovery.Parse("kubernetes").RequiredContactPoints(4));
    }

    [Fact]
    public void ANodeJoiningAgainDoesSoOnlyThroughTheOthers()
    {
        var first = NodeOptions.Parse("10.0.0.7:4053", "10.0.0.7:4053,10.0.0.8:4053", 3, Postgres);
        Assert.True(first.MayFormCluster);
        var again = first.Rejoining();
        Assert.Equal([("10.0.0.8", 4053)], again.SeedNodes);
        Assert.False(again.MayFormCluster);
        Assert.Equal(first.SeedNodes, NodeOptions.Parse("10.0.0.9:4053", "10.0.0.7:4053,10.0.0.8:4053", 3, Postgres).Rejoining().SeedNodes);
        var alone = NodeOptions.Parse("10.0.0.7:4053", "10.0.0.7:4053", 1, Postgres).Rejoining();
        Assert.Equal([("10.0.0.7", 4053)], alone.SeedNodes); // the only seed: nothing else to join through
        Assert.False(NodeOptions.Parse("10.0.0.7:4053", null, 3, Postgres, "kubernetes").Rejoining().MayFormCluster);
    }

    [Theory]
    [InlineData("10.0.0.7:4053", "10.0.0.7:4053", "config:10.0.0.7:8558", Postgres, null, "--discovery", "in place of --seed-nodes; give one of them")]
    [InlineData(null, null, "config:10.0.0.7:8558", Postgres, null, "--discovery", "needs --node HOST:PORT")]
    [InlineData("10.0.0.7:4053", null, "config:10.0.0.7:8558", null, null, "--discovery", "keeps its journal in PostgreSQL")]
    [InlineData("10.0.0.7:4053", null, "dns:trainers", Postgres, null, "--discovery", "'dns:trainers' is neither config:HOST:PORT,… nor kubernetes[:APP]")]
    [InlineData("10.0.0.7:4053", null, "config:", Postgres, null, "--discovery", "lists no contact point")]
    [InlineData("10.0.0.7:4053", null, "config:10.0.0.7:0", Postgres, null, "--discovery", "needs its fixed management port")]
    [InlineData("10.0.0.7:4053", null, "config:10.0.0.7", Postgres, null, "--discovery", "'10.0.0.7' is not HOST:PORT")]
    [InlineData("10.0.0.7:4053", null, "kubernetes:app=x", Postgres, null, "--discovery", "'app=x' is not a Kubernetes label value")]
    [InlineData("10.0.0.7:62000", "10.0.0.7:62000", null, Postgres, null, "--management-port", "--node's port 62000 + 4505, past 65535; give one")]
    [InlineData("10.0.0.7:4053", "10.0.0.7:4053", null, Postgres, 4053, "--management-port", "4053 is --node's port too")]
    [InlineData("10.0.0.7:4053", "10.0.0.7:4053", null, Postgres, 70000, "--management-port", "must be between 1 and 65535, got 70000")]
    public void BadClusterOptionsAreOneLineNamingTheOption(string? node, string? seeds, string? discovery, string? postgres, int? management, string key, string reason)
    {
        var error = Assert.Throws<ConfigException>(() => NodeOptions.Parse(node, seeds, null, postgres, discovery, management));
        Assert.Equal(key, error.Key);
        Assert.Contains(reason, error.Reason);
    }
}
