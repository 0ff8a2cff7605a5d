using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using Xunit.Abstractions;

namespace ActorTraining.Host.Tests.Hygiene;

/// <summary>
/// TorchSharp 0.107 turns a number used with a tensor (<c>x * 0.5</c>, <c>x.pow(2.0)</c>) into a temporary native
/// <c>Scalar</c> that nothing keeps alive: once its handle is passed on, the garbage collector may finalise it while
/// libtorch still reads it (dotnet/TorchSharp#1434). Seen here as "Unknown scalar type" from a spectrogram worker,
/// which stalled a run; a freed Scalar can as well be read as another number. So Compute creates every Scalar
/// explicitly, under <c>using</c>. This test reads the IL of ActorTraining.Compute and names every method that calls
/// the implicit conversion to Scalar or a Tensor operator taking a plain number.
/// </summary>
public sealed class ImplicitScalarTests(ITestOutputHelper output)
{
    [Fact]
    public void ComputeCreatesNoScalarImplicitly()
    {
        var offenders = Offenders(typeof(ActorTraining.Compute.Features.FbankExtractor).Assembly.Location).ToList();
        foreach (var o in offenders) output.WriteLine(o);
        Assert.True(offenders.Count == 0, $"{offenders.Count} implicit Scalar(s) in Compute:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void TheScanFindsAnImplicitScalar()
    {
        // this very assembly has one, below: the scan must see it
        var offenders = Offenders(typeof(ImplicitScalarTests).Assembly.Location).ToList();
        Assert.Contains(offenders, o => o.Contains(nameof(Example)));
    }

    static TorchSharp.torch.Tensor Example(TorchSharp.torch.Tensor x) => x * 0.5;

    static IEnumerable<string> Offenders(string assemblyPath)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        foreach (var typeHandle in md.TypeDefinitions)
        {
            var type = md.GetTypeDefinition(typeHandle);
            foreach (var methodHandle in type.GetMethods())
            {
                var method = md.GetMethodDefinition(methodHandle);
                if (method.RelativeVirtualAddress == 0) continue;
                var body = pe.GetMethodBody(method.RelativeVirtualAddress);
                foreach (var callee in Callees(body.GetILReader()))
                    if (IsImplicitScalar(md, callee, out var what))
                        yield return $"{md.GetString(type.Namespace)}.{md.GetString(type.Name)}.{md.GetString(method.Name)}: {what}";
            }
        }
    }

    static bool IsImplicitScalar(MetadataReader md, EntityHandle callee, out string what)
    {
        what = "";
        if (callee.Kind != HandleKind.MemberReference) return false;
        var member = md.GetMemberReference((MemberReferenceHandle)callee);
        var name = md.GetString(member.Name);
        var owner = TypeName(md, member.Parent);
        var signature = SignatureText(md, member);
        if (owner == "TorchSharp.Scalar" && name == "op_Implicit") { what = $"implicit {signature}"; return true; }
        if (owner == "TorchSharp.torch/Tensor" && name.StartsWith("op_", StringComparison.Ordinal)
            && Primitives.Any(p => signature.Contains(p, StringComparison.Ordinal)))
        { what = $"Tensor.{name}{signature}"; return true; }
        return false;
    }

    static readonly string[] Primitives = ["System.Double", "System.Single", "System.Int32", "System.Int64", "System.Boolean"];

    static string SignatureText(MetadataReader md, MemberReference member)
    {
        var provider = new NameProvider();
        var sig = member.DecodeMethodSignature(provider, null);
        return $"({string.Join(", ", sig.ParameterTypes)}) -> {sig.ReturnType}";
    }

    static string TypeName(MetadataReader md, EntityHandle handle) => handle.Kind switch
    {
        HandleKind.TypeReference => Nested(md, (TypeReferenceHandle)handle),
        HandleKind.TypeDefinition => md.GetString(md.GetTypeDefinition((TypeDefinitionHandle)handle).Name),
        HandleKind.TypeSpecification => "spec",
        _ => handle.Kind.ToString(),
    };

    static string Nested(MetadataReader md, TypeReferenceHandle h)
    {
        var r = md.GetTypeReference(h);
        var name = md.GetString(r.Name);
        return r.ResolutionScope.Kind == HandleKind.TypeReference
            ? Nested(md, (TypeReferenceHandle)r.ResolutionScope) + "/" + name
            : md.GetString(r.Namespace) + "." + name;
    }

    // Every call/callvirt/newobj/ldftn target in a method body.
    static IEnumerable<EntityHandle> Callees(BlobReader il)
    {
        var found = new List<EntityHandle>();
        while (il.RemainingBytes > 0)
        {
            int code = il.ReadByte();
            if (code == 0xFE) code = 0xFE00 | il.ReadByte();
            var op = (ILOpCode)code;
            switch (op)
            {
                case ILOpCode.Call or ILOpCode.Callvirt or ILOpCode.Newobj or ILOpCode.Ldftn or ILOpCode.Ldvirtftn:
                    found.Add(MetadataTokens.EntityHandle(il.ReadInt32()));
                    break;
                case ILOpCode.Switch:
                    il.Offset += 4 * il.ReadInt32();
                    break;
                default:
                    il.Offset += OperandSize(op);
                    break;
            }
        }
        return found;
    }

    static int OperandSize(ILOpCode op) => op switch
    {
        ILOpCode.Ldarg_s or ILOpCode.Ldarga_s or ILOpCode.Starg_s or ILOpCode.Ldloc_s or ILOpCode.Ldloca_s or ILOpCode.Stloc_s
            or ILOpCode.Ldc_i4_s or ILOpCode.Br_s or ILOpCode.Brfalse_s or ILOpCode.Brtrue_s or ILOpCode.Beq_s or ILOpCode.Bge_s
            or ILOpCode.Bgt_s or ILOpCode.Ble_s or ILOpCode.Blt_s or ILOpCode.Bne_un_s or ILOpCode.Bge_un_s or ILOpCode.Bgt_un_s
            or ILOpCode.Ble_un_s or ILOpCode.Blt_un_s or ILOpCode.Leave_s or ILOpCode.Unaligned => 1,
        ILOpCode.Ldarg or ILOpCode.Ldarga or ILOpCode.Starg or ILOpCode.Ldloc or ILOpCode.Ldloca or ILOpCode.Stloc => 2,
        ILOpCode.Ldc_i8 or ILOpCode.Ldc_r8 => 8,
        ILOpCode.Ldc_i4 or ILOpCode.Ldc_r4 or ILOpCode.Br or ILOpCode.Brfalse or ILOpCode.Brtrue or ILOpCode.Beq or ILOpCode.Bge
            or ILOpCode.Bgt or ILOpCode.Ble or ILOpCode.Blt or ILOpCode.Bne_un or ILOpCode.Bge_un or ILOpCode.Bgt_un
            or ILOpCode.Ble_un or ILOpCode.Blt_un or ILOpCode.Leave or ILOpCode.Jmp or ILOpCode.Calli or ILOpCode.Ldstr
            or ILOpCode.Ldtoken or ILOpCode.Ldfld or ILOpCode.Ldflda or ILOpCode.Stfld or ILOpCode.Ldsfld or ILOpCode.Ldsflda
            or ILOpCode.Stsfld or ILOpCode.Box or ILOpCode.Unbox or ILOpCode.Unbox_any or ILOpCode.Castclass or ILOpCode.Isinst
            or ILOpCode.Newarr or ILOpCode.Ldelema or ILOpCode.Ldelem or ILOpCode.Stelem or ILOpCode.Ldobj or ILOpCode.Stobj
            or ILOpCode.Cpobj or ILOpCode.Initobj or ILOpCode.Sizeof or ILOpCode.Mkrefany or ILOpCode.Refanyval
            or ILOpCode.Constrained => 4,
        _ => 0,
    };

    sealed class NameProvider : ISignatureTypeProvider<string, object?>
    {
        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => "System." + typeCode switch
        {
            PrimitiveTypeCode.Boolean => "Boolean", PrimitiveTypeCode.Double => "Double", PrimitiveTypeCode.Single => "Single",
            PrimitiveTypeCode.Int32 => "Int32", PrimitiveTypeCode.Int64 => "Int64", _ => typeCode.ToString(),
        };
        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => reader.GetString(reader.GetTypeDefinition(handle).Name);
        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => Nested(reader, handle);
        public string GetTypeFromSpecification(MetadataReader reader, object? context, TypeSpecificationHandle handle, byte rawTypeKind) => "spec";
        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[,]";
        public string GetByReferenceType(string elementType) => elementType + "&";
        public string GetPointerType(string elementType) => elementType + "*";
        public string GetGenericInstantiation(string genericType, System.Collections.Immutable.ImmutableArray<string> typeArguments) => genericType + "<" + string.Join(",", typeArguments) + ">";
        public string GetGenericMethodParameter(object? context, int index) => "!!" + index;
        public string GetGenericTypeParameter(object? context, int index) => "!" + index;
        public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";
        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
        public string GetPinnedType(string elementType) => elementType;
        public string GetTypeFromSerializedName(string name) => name;
    }
}
