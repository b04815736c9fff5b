using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace DistSac.Learning;

/// <summary>Validates an options record and names the failing configuration key ("Section:Property = value").</summary>
public static class OptionsValidator
{
    public static void Validate(object options, string section)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true)) return;
        var first = results[0];
        var member = first.MemberNames.FirstOrDefault() ?? "?";
        var value = options.GetType().GetProperty(member)?.GetValue(options);
        throw new ValidationException(string.Create(CultureInfo.InvariantCulture,
            $"{section}:{member} = {value ?? "null"} is invalid: {first.ErrorMessage} (set it with the matching flag, DISTSAC_{section.ToUpperInvariant()}__{member.ToUpperInvariant()}, or the config file)."));
    }
}
