using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace ActorTraining.Host.Tests.Hygiene;

/// <summary>
/// Reads the IL of an assembly: every method with a body and the methods it calls, each named in one text form —
/// <c>Namespace.Type/Nested::name(parameter types) -> return type</c> — whether the callee is defined in the assembly
/// or referenced from another, so calls in one assembly can be matched against definitions in another.
/// </summary>
public sealed class IlScan : IDisposable
{
    public sealed record Method(string Key, string DeclaringType, string ReturnType, IReadOnlyList<Call> Calls);
    public sealed record Call(string Key, bool Virtual);

    readonly FileStream _stream;
    readonly PEReader _pe;
    readonly MetadataReader _md;

    public IlScan(string assemblyPath)
    {
        _stream = File.OpenRead(assemblyPath);
        _pe = new PEReader(_stream);
        _md = _pe.GetMetadataReader();
    }

    public void Dispose()
    {
        _pe.Dispose();
        _stream.Dispose();
    }

    /// <summary>Every method of the assembly that has a body, with its calls (call, callvirt, newobj, ldftn).</summary>
    public IEnumerable<Method> Methods()
    {
        var names = new NameProvider();
        foreach (var typeHandle in _md.TypeDefinitions)
        {
            var typeName = names.GetTypeFromDefinition(_md, typeHandle, 0);
            var type = _md.GetTypeDefinition(typeHandle);
            foreach (var methodHandle in type.GetMethods())
            {
                var method = _md.GetMethodDefinition(methodHandle);
                var sig = method.DecodeSignature(names, null);
                var key = KeyOf(typeName, _md.GetString(method.Name), sig);
                var calls = method.RelativeVirtualAddress == 0
                    ? []
                    : CallsIn(_pe.GetMethodBody(method.RelativeVirtualAddress).GetILReader()).ToList();
                yield return new Method(key, typeName, sig.ReturnType, calls);
            }
        }
    }

    /// <summary>Every type of the assembly → its base type's name (null for none).</summary>
    public IReadOnlyDictionary<string, string?> BaseTypes()
    {
        var names = new NameProvider();
        var result = new Dictionary<string, string?>();
        foreach (var handle in _md.TypeDefinitions)
        {
            var baseType = _md.GetTypeDefinition(handle).BaseType;
            result[names.GetTypeFromDefinition(_md, handle, 0)] = baseType.IsNil ? null : TypeName(baseType);
        }
        return result;
    }

    /// <summary>The type part and the member part (<c>::name(…) -> …</c>) of a key.</summary>
    public static (string Type, string Member) Split(string key)
    {
        int i = key.IndexOf("::", StringComparison.Ordinal);
        return (key[..i], key[i..]);
    }

    static string KeyOf(string type, string name, MethodSignature<string> sig) =>
        $"{type}::{name}({string.Join(", ", sig.ParameterTypes)}) -> {sig.ReturnType}";

    IEnumerable<Call> CallsIn(BlobReader il)
    {
        var found = new List<Call>();
        while (il.RemainingBytes > 0)
        {
            int code = il.ReadByte();
            if (code == 0xFE) code = 0xFE00 | il.ReadByte();
            var op = (ILOpCode)code;
            switch (op)
            {
                case ILOpCode.Call or ILOpCode.Callvirt or ILOpCode.Newobj or ILOpCode.Ldftn or ILOpCode.Ldvirtftn:
                    if (KeyOf(MetadataTokens.EntityHandle(il.ReadInt32())) is { } key) found.Add(new Call(key, op == ILOpCode.Callvirt));
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

    string? KeyOf(EntityHandle callee)
    {
        var names = new NameProvider();
        switch (callee.Kind)
        {
            case HandleKind.MethodDefinition:
            {
                var m = _md.GetMethodDefinition((MethodDefinitionHandle)callee);
                return KeyOf(names.GetTypeFromDefinition(_md, m.GetDeclaringType(), 0), _md.GetString(m.Name), m.DecodeSignature(names, null));
            }
            case HandleKind.MemberReference:
            {
                var m = _md.GetMemberReference((MemberReferenceHandle)callee);
                if (m.GetKind() != MemberReferenceKind.Method) return null;
                return KeyOf(TypeName(m.Parent), _md.GetString(m.Name), m.DecodeMethodSignature(names, null));
            }
            case HandleKind.MethodSpecification:
                return KeyOf(_md.GetMethodSpecification((MethodSpecificationHandle)callee).Method);
            default:
                return null;
        }
    }

    string TypeName(EntityHandle handle)
    {
        var names = new NameProvider();
        return handle.Kind switch
        {
            HandleKind.TypeReference => names.GetTypeFromReference(_md, (TypeReferenceHandle)handle, 0),
            HandleKind.TypeDefinition => names.GetTypeFromDefinition(_md, (TypeDefinitionHandle)handle, 0),
            // a generic instantiation (Module<Tensor, Tensor>): named by its generic type, as its definition is
            HandleKind.TypeSpecification => StripArguments(_md.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(names, null)),
            _ => handle.Kind.ToString(),
        };
    }

    static string StripArguments(string name) => name.IndexOf('<') is var i and >= 0 ? name[..i] : name;

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
        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            var t = reader.GetTypeDefinition(handle);
            var name = reader.GetString(t.Name);
            return t.GetDeclaringType() is { IsNil: false } outer
                ? GetTypeFromDefinition(reader, outer, 0) + "/" + name
                : reader.GetString(t.Namespace) + "." + name;
        }
        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
        {
            var r = reader.GetTypeReference(handle);
            var name = reader.GetString(r.Name);
            return r.ResolutionScope.Kind == HandleKind.TypeReference
                ? GetTypeFromReference(reader, (TypeReferenceHandle)r.ResolutionScope, 0) + "/" + name
                : reader.GetString(r.Namespace) + "." + name;
        }
        public string GetTypeFromSpecification(MetadataReader reader, object? context, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, context);
        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[,]";
        public string GetByReferenceType(string elementType) => elementType + "&";
        public string GetPointerType(string elementType) => elementType + "*";
        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) => genericType + "<" + string.Join(",", typeArguments) + ">";
        public string GetGenericMethodParameter(object? context, int index) => "!!" + index;
        public string GetGenericTypeParameter(object? context, int index) => "!" + index;
        public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";
        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
        public string GetPinnedType(string elementType) => elementType;
        public string GetTypeFromSerializedName(string name) => name;
    }
}
