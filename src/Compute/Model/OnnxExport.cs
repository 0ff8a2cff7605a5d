using System.Runtime.InteropServices;
using ActorTraining.Compute.Protobuf;
using static TorchSharp.torch;

namespace ActorTraining.Compute.Model;

/// <summary>
/// An <see cref="AstModel"/> as an ONNX model (opset <see cref="Opset"/>, IR version 8): input <c>input_values</c> float32
/// [batch, TargetLength, MelBins] — the normalised fbank the model trains on, (x − mean) / (2·std) — output
/// <c>logits</c> [batch, NumClasses] — the names of Hugging Face's ONNX exports (optimum, transformers.js).
/// The graph is written node by node from <see cref="AstModel.forward"/>: patch Conv, cls/dist tokens expanded to the
/// batch, positional embedding, per block LayerNormalization, the fused qkv projection split into heads, softmax
/// attention with the 1/√d scale, GELU as 0.5·x·(1 + erf(x/√2)) (exact, as torch's default), the MLP, and the head on
/// the model's pooling (the mean of the final cls and dist tokens, or of the patch tokens). Weights are initializers in
/// raw little-endian float32 (a base model, 87 M parameters, is one 350 MB file; ONNX's 2 GB protobuf limit is far).
/// TorchSharp has no exporter; this is written against onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto).
/// </summary>
public static class OnnxExport
{
    public const int Opset = 17; // LayerNormalization is in the standard domain from 17
    public const string InputName = "input_values", OutputName = "logits";
    const int FloatType = 1, Int64Type = 7;

    public static void Write(string path, AstModel model)
    {
        using var scope = NewDisposeScope();
        var graph = new GraphBuilder();
        var c = model.Config;
        var state = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().to_type(ScalarType.Float32).contiguous());
        string W(string key) => graph.Initializer(key, state[key]);
        string WT(string key) => graph.Initializer(key + ".T", state[key].t().contiguous()); // Linear y = x·Wᵀ + b
        string Linear(string x, string prefix) => graph.Node("Add", [graph.Node("MatMul", [x, WT(prefix + ".weight")]), W(prefix + ".bias")]);
        string LayerNorm(string x, string prefix, float eps) =>
            graph.Node("LayerNormalization", [x, W(prefix + ".weight"), W(prefix + ".bias")], a => a.Int("axis", -1).Float("epsilon", eps));

        // [B, T, F] → [B, 1, F, T] → patches [B, D, f, t] → tokens [B, f·t, D] (frequency-major, as flatten(2) in timm)
        var image = graph.Node("Transpose", [graph.Node("Unsqueeze", [InputName, graph.Int64s("axes1", 1)])], a => a.Ints("perm", 0, 1, 3, 2));
        var patches = graph.Node("Conv", [image, W("v.patch_embed.proj.weight"), W("v.patch_embed.proj.bias")],
            a => a.Ints("kernel_shape", c.PatchF, c.PatchT).Ints("strides", c.FStride, c.TStride));
        var tokens = graph.Node("Transpose", [graph.Node("Reshape", [patches, graph.Int64s("patch_shape", 0, c.EmbedDim, -1)])], a => a.Ints("perm", 0, 2, 1));
        // cls and dist expanded to the batch: shape [B, 2, D] from the input's first dimension
        var batch = graph.Node("Gather", [graph.Node("Shape", [InputName]), graph.Int64s("first", 0)], a => a.Int("axis", 0));
        var special = graph.Node("Expand", [graph.Node("Concat", [W("v.cls_token"), W("v.dist_token")], a => a.Int("axis", 1)),
            graph.Node("Concat", [batch, graph.Int64s("two_dim", 2, c.EmbedDim)], a => a.Int("axis", 0))]);
        var x = graph.Node("Add", [graph.Node("Concat", [special, tokens], a => a.Int("axis", 1)), W("v.pos_embed")]);

        int headDim = c.EmbedDim / c.Heads;
        var qkvShape = graph.Int64s("qkv_shape", 0, 0, 3, c.Heads, headDim);
        var mergeShape = graph.Int64s("merge_shape", 0, 0, c.EmbedDim);
        var scale = graph.Float("attention_scale", (float)(1 / Math.Sqrt(headDim)));
        var half = graph.Float("half", 0.5f);
        var one = graph.Float("one", 1f);
        var sqrt2 = graph.Float("sqrt2", (float)Math.Sqrt(2));
        for (int i = 0; i < c.Depth; i++)
        {
            var p = $"v.blocks.{i}";
            // attention: [B, L, 3D] → [3, B, H, L, Dh]
            var qkv = graph.Node("Transpose", [graph.Node("Reshape", [Linear(LayerNorm(x, $"{p}.norm1", 1e-6f), $"{p}.attn.qkv"), qkvShape])],
                a => a.Ints("perm", 2, 0, 3, 1, 4));
            string Part(int k, string name) => graph.Node("Gather", [qkv, graph.Int64Scalar(name, k)], a => a.Int("axis", 0));
            var (q, k, v) = (Part(0, "q_index"), Part(1, "k_index"), Part(2, "v_index"));
            var weights = graph.Node("Softmax", [graph.Node("Mul", [graph.Node("MatMul", [q, graph.Node("Transpose", [k], a => a.Ints("perm", 0, 1, 3, 2))]), scale])],
                a => a.Int("axis", -1));
            var attended = graph.Node("Reshape", [graph.Node("Transpose", [graph.Node("MatMul", [weights, v])], a => a.Ints("perm", 0, 2, 1, 3)), mergeShape]);
            x = graph.Node("Add", [x, Linear(attended, $"{p}.attn.proj")]);
            // MLP with exact GELU
            var hidden = Linear(LayerNorm(x, $"{p}.norm2", 1e-6f), $"{p}.mlp.fc1");
            var gelu = graph.Node("Mul", [graph.Node("Mul", [hidden, half]),
                graph.Node("Add", [graph.Node("Erf", [graph.Node("Div", [hidden, sqrt2])]), one])]);
            x = graph.Node("Add", [x, Linear(gelu, $"{p}.mlp.fc2")]);
        }
        x = LayerNorm(x, "v.norm", 1e-6f);
        string pooled;
        if (c.Pooling == AstPooling.MeanTokens)
        {
            var patchTokens = graph.Node("Slice", [x, graph.Int64s("patches_start", 2), graph.Int64s("patches_end", long.MaxValue), graph.Int64s("token_axis", 1)]);
            pooled = graph.Node("ReduceMean", [patchTokens], a => a.Ints("axes", 1).Int("keepdims", 0));
        }
        else
        {
            var cls = graph.Node("Gather", [x, graph.Int64Scalar("cls_index", 0)], a => a.Int("axis", 1));
            var dist = graph.Node("Gather", [x, graph.Int64Scalar("dist_index", 1)], a => a.Int("axis", 1));
            pooled = graph.Node("Mul", [graph.Node("Add", [cls, dist]), half]);
        }
        var logits = Linear(LayerNorm(pooled, "mlp_head.0", 1e-5f), "mlp_head.1");
        graph.Node("Identity", [logits], output: OutputName);

        var model_ = new ProtoWriter()
            .Varint(1, 8) // ir_version
            .String(2, "actortraining")
            .String(3, typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "")
            .Message(7, graph.Build("ast", c))
            .Message(8, new ProtoWriter().String(1, "").Varint(2, Opset));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, model_.ToArray());
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Attributes of one node (AttributeProto: name 1, f 2, i 3, floats 7, ints 8, type 20).</summary>
    sealed class Attributes
    {
        public readonly List<ProtoWriter> List = [];

        public Attributes Int(string name, long value)
        {
            List.Add(new ProtoWriter().String(1, name).Varint(3, value).Varint(20, 2));
            return this;
        }

        public Attributes Float(string name, float value)
        {
            List.Add(new ProtoWriter().String(1, name).Float(2, value).Varint(20, 1));
            return this;
        }

        public Attributes Ints(string name, params long[] values)
        {
            var a = new ProtoWriter().String(1, name);
            foreach (var v in values) a.Varint(8, v);
            List.Add(a.Varint(20, 7));
            return this;
        }
    }

    sealed class GraphBuilder
    {
        readonly List<ProtoWriter> _nodes = [];
        readonly List<ProtoWriter> _initializers = [];
        readonly HashSet<string> _names = [];
        int _next;

        /// <summary>Adds a node and returns its (only) output's name.</summary>
        public string Node(string op, string[] inputs, Action<Attributes>? attributes = null, string? output = null)
        {
            output ??= $"{op.ToLowerInvariant()}_{_next++}";
            var node = new ProtoWriter();
            foreach (var input in inputs) node.String(1, input);
            node.String(2, output).String(3, output).String(4, op);
            if (attributes is not null)
            {
                var a = new Attributes();
                attributes(a);
                foreach (var attribute in a.List) node.Message(5, attribute);
            }
            _nodes.Add(node);
            return output;
        }

        /// <summary>A float32 weight (TensorProto: dims 1, data_type 2, name 8, raw_data 9), once per name.</summary>
        public string Initializer(string name, Tensor value)
        {
            if (!_names.Add(name)) return name;
            var t = new ProtoWriter();
            foreach (var d in value.shape) t.Varint(1, d);
            t.Varint(2, FloatType).String(8, name);
            t.Bytes(9, value.contiguous().bytes);
            _initializers.Add(t);
            return name;
        }

        public string Int64s(string name, params long[] values) => Constant(name, Int64Type, [values.Length], MemoryMarshal.AsBytes(values.AsSpan()));

        public string Int64Scalar(string name, long value) => Constant(name, Int64Type, [], MemoryMarshal.AsBytes(new[] { value }.AsSpan()));

        /// <summary>A float constant of shape [1] (broadcast by the ops that take it).</summary>
        public string Float(string name, float value) => Constant(name, FloatType, [1], MemoryMarshal.AsBytes(new[] { value }.AsSpan()));

        string Constant(string name, int type, long[] dims, ReadOnlySpan<byte> raw)
        {
            if (!_names.Add(name)) return name;
            var t = new ProtoWriter();
            foreach (var d in dims) t.Varint(1, d);
            t.Varint(2, type).String(8, name).Bytes(9, raw);
            _initializers.Add(t);
            return name;
        }

        /// <summary>GraphProto: node 1, name 2, initializer 5, input 11, output 12 (ValueInfoProto with a tensor type).</summary>
        public ProtoWriter Build(string name, AstConfig c)
        {
            var graph = new ProtoWriter();
            foreach (var node in _nodes) graph.Message(1, node);
            graph.String(2, name);
            foreach (var initializer in _initializers) graph.Message(5, initializer);
            graph.Message(11, ValueInfo(InputName, "batch", c.TargetLength, c.MelBins));
            graph.Message(12, ValueInfo(OutputName, "batch", c.NumClasses));
            return graph;
        }

        // ValueInfoProto{name 1, type 2: TypeProto{tensor_type 1: {elem_type 1, shape 2: {dim 1: {dim_value 1 | dim_param 2}}}}}
        static ProtoWriter ValueInfo(string name, string batch, params long[] dims)
        {
            var shape = new ProtoWriter().Message(1, new ProtoWriter().String(2, batch));
            foreach (var d in dims) shape.Message(1, new ProtoWriter().Varint(1, d));
            var tensorType = new ProtoWriter().Varint(1, FloatType).Message(2, shape);
            return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, tensorType));
        }
    }
}
