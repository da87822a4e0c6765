from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("integrations", "0002_chat_app_bot_token")]

    operations = [
        migrations.AddField(
            model_name="chatapp",
            name="bot_app_id",
            field=models.CharField(
                blank=True,
                help_text=(
                    "Teams bot: the application (client) id of the app registered in Microsoft Entra ID. Its "
                    "client secret is read from the secret variable."
                ),
                max_length=64,
                verbose_name="bot application id",
            ),
        ),
        migrations.AddField(
            model_name="chatevent",
            name="payload",
            field=models.JSONField(blank=True, null=True),
        ),
    ]
